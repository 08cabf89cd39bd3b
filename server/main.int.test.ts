import { mkdtemp, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runServerExpectingFailure, type SpawnedServer, spawnServer } from "../tests/support/spawnServer";
import { createTestDatabase, type TestDatabase } from "../tests/support/testDb";

let dataDir: string;
let t: TestDatabase | undefined;
let dbEnv: Record<string, string | undefined> = {};

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), "potentia-main-"));
  if (process.env.DATABASE_URL) {
    t = await createTestDatabase();
    dbEnv = { DATABASE_URL: t.url, DATABASE_URL_DIRECT: t.directUrl };
  }
  if (process.env.REDIS_URL) dbEnv.REDIS_URL = process.env.REDIS_URL;
});

afterAll(async () => {
  await t?.drop();
  await rm(dataDir, { recursive: true, force: true });
});

describe("npm run server", () => {
  it("CMD-1: a bad setting stops the process at start with one line naming it", async () => {
    const { code, stderr } = await runServerExpectingFailure({ API_PORT: "not-a-port", DATA_DIR: dataDir });
    expect(code).toBe(78);
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toContain("API_PORT");
  });

  it("CMD-1: production refuses to start without signing keys", async () => {
    const { code, stderr } = await runServerExpectingFailure({ NODE_ENV: "production", DATA_DIR: dataDir });
    expect(code).toBe(78);
    expect(stderr).toContain("JWT_PRIVATE_KEY");
  });

  it("M1/M2: boots, migrates, answers /health and /ready, and stops cleanly on SIGTERM", async () => {
    let server: SpawnedServer | undefined;
    try {
      server = await spawnServer({ DATA_DIR: dataDir, ...dbEnv });
      const health = await fetch(`${server.url}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: "ok" });
      const ready = await fetch(`${server.url}/ready`);
      expect(ready.status).toBe(200);
      const body = (await ready.json()) as { status: string; checks: Record<string, string> };
      expect(body.checks.db).toBe("ok");
      expect(body.checks.redis).toBe(process.env.REDIS_URL ? "ok" : "in-process");
      expect(["ok", "unavailable"]).toContain(body.checks.vector);
      if (!process.env.DATABASE_URL) {
        // Embedded mode: the database lives under DATA_DIR and always has pgvector.
        expect((await stat(path.join(dataDir, "pglite"))).isDirectory()).toBe(true);
        expect(body.checks.vector).toBe("ok");
      }
      expect((await fetch(`${server.url}/nope`)).status).toBe(404);
      expect(await server.stop("SIGTERM")).toBe(0);
      expect(server.lines.some((l) => l.includes("API server stopped"))).toBe(true);
    } finally {
      await server?.stop("SIGKILL");
    }
  });

  it("DB-8: a second start finds the database migrated and applies nothing", async () => {
    const server = await spawnServer({ DATA_DIR: dataDir, ...dbEnv });
    try {
      const applied = server.lines.filter((l) => l.includes("applied 2026"));
      expect(applied).toEqual([]);
      expect((await fetch(`${server.url}/ready`)).status).toBe(200);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });
});
