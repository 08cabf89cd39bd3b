import { mkdirSync } from "node:fs";
import path from "node:path";
import {
  type Browser,
  type BrowserContext,
  test as base,
  expect,
  type Page,
  type TestInfo,
} from "@playwright/test";

/**
 * The suite's `test`: every page it hands out (the default `page` and each `users.open()` page)
 * records console errors/warnings and uncaught page errors, and the test fails if any were
 * seen that it did not expect (`allowConsole`). Tests that cut the network on purpose allow the
 * browser's own messages about it (e.g. "WebSocket connection … failed").
 */

interface ConsoleGuard {
  /** Messages matching `pattern` are expected in this test (e.g. the browser's own network errors). */
  allowConsole(pattern: RegExp): void;
  watch(page: Page, label: string): void;
}

export interface UserPages {
  /** A new browser context (its own cookies and localStorage) with one guarded page. */
  open(label: string): Promise<{ context: BrowserContext; page: Page }>;
}

const screensDir = path.resolve(import.meta.dirname, "../../test-results/screens");

/** Saves a deliberate screenshot to test-results/screens/<name>.png and attaches it to the report. */
export async function screen(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  mkdirSync(screensDir, { recursive: true });
  const file = path.join(screensDir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  await testInfo.attach(name, { path: file, contentType: "image/png" });
}

function guard(): ConsoleGuard & { problems(): string[] } {
  const allowed: RegExp[] = [];
  const seen: string[] = [];
  return {
    allowConsole(pattern) {
      allowed.push(pattern);
    },
    watch(page, label) {
      page.on("console", (msg) => {
        if (msg.type() !== "error" && msg.type() !== "warning") return;
        const where = msg.location().url ? ` (${msg.location().url}:${msg.location().lineNumber})` : "";
        seen.push(`[${label}] console.${msg.type()}: ${msg.text()}${where}`);
      });
      page.on("pageerror", (error) => seen.push(`[${label}] pageerror: ${error.stack ?? error.message}`));
    },
    problems() {
      return seen.filter((line) => !allowed.some((re) => re.test(line)));
    },
  };
}

async function newGuardedContext(
  browser: Browser,
  guardOf: ConsoleGuard,
  contexts: BrowserContext[],
  label: string,
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext();
  contexts.push(context);
  const page = await context.newPage();
  guardOf.watch(page, label);
  return { context, page };
}

export const test = base.extend<{ consoleGuard: ConsoleGuard; users: UserPages }>({
  consoleGuard: [
    async ({ page }, use, testInfo) => {
      const g = guard();
      g.watch(page, "page");
      await use(g);
      const problems = g.problems();
      if (problems.length > 0) await testInfo.attach("console", { body: problems.join("\n") });
      expect(problems, "console errors/warnings or page errors in the browser").toEqual([]);
    },
    { auto: true },
  ],
  users: async ({ browser, consoleGuard }, use) => {
    const contexts: BrowserContext[] = [];
    await use({ open: (label) => newGuardedContext(browser, consoleGuard, contexts, label) });
    for (const context of contexts) await context.close();
  },
});

export { expect };
