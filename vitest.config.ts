import { defineConfig } from "vitest/config";

// Two projects: fast pure unit tests, and integration tests against real PostgreSQL/Redis
// (embedded PGlite + in-process ports when DATABASE_URL / REDIS_URL are unset).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["server/**/*.test.ts", "workers/**/*.test.ts", "src/**/*.test.ts", "tests/**/*.test.ts"],
          exclude: ["**/*.int.test.ts", "**/node_modules/**"],
          environment: "node",
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: "integration",
          include: ["server/**/*.int.test.ts", "workers/**/*.int.test.ts", "tests/**/*.int.test.ts"],
          environment: "node",
          testTimeout: 60_000,
          hookTimeout: 120_000,
          // Each file builds its own database; keep two at a time on this 2-core machine.
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
