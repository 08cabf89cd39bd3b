import { defineConfig, devices } from "@playwright/test";
import { E2E_WEB_URL } from "./e2e/support/stackConfig";

/**
 * UI-6: the web app in real Chromium (Debian's; `npx playwright install` cannot download here).
 * globalSetup builds the app once and starts the API + `next start` on their own ports with a
 * fresh database (docs/CI.md, "e2e").
 */
export default defineConfig({
  testDir: "e2e",
  testMatch: "*.e2e.ts",
  outputDir: "test-results",
  globalSetup: "./e2e/support/globalSetup.ts",
  // Specs are independent (fresh users and canvases), so two workers are safe; more would
  // starve the 2-core machine that also runs the API, Next and the browsers.
  workers: process.env.E2E_WORKERS ? Number(process.env.E2E_WORKERS) : 2,
  fullyParallel: false,
  retries: 0,
  forbidOnly: !!process.env.CI,
  timeout: 90_000,
  expect: { timeout: 10_000 },
  reporter: [["list"], ["html", { open: "never", outputFolder: "playwright-report" }]],
  use: {
    baseURL: E2E_WEB_URL,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    video: "off",
    actionTimeout: 10_000,
    navigationTimeout: 30_000,
  },
  projects: [
    {
      name: "chromium",
      use: {
        ...devices["Desktop Chrome"],
        launchOptions: {
          executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
          args: [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
            "--no-first-run",
            "--disable-dev-shm-usage",
          ],
        },
      },
    },
  ],
});
