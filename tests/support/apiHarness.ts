import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { type App, startApp } from "../../server/app";
import { parseEnv } from "../../server/env";
import { createLogger } from "../../server/observability/logger";
import { seedCanvas, seedUser } from "./fixtures";
import { createTestDatabase, type TestDatabase } from "./testDb";

export interface TestUser {
  userId: string;
  token: string;
  /** `fetch` against the API with this user's bearer token. */
  fetch(pathname: string, init?: RequestInit & { json?: unknown }): Promise<Response>;
}

export interface TestApi {
  app: App;
  url: string;
  /** A user straight in the database with a fresh access token (auth routes test sign-up itself). */
  user(name?: string): Promise<TestUser>;
  /** A canvas owned by `owner` (owner membership included). */
  canvas(owner: TestUser, title?: string): Promise<string>;
  /** Adds a member with a role. */
  member(canvasId: string, user: TestUser, role: "owner" | "writer" | "reader"): Promise<void>;
  anonymous: TestUser["fetch"];
  stop(): Promise<void>;
}

/**
 * Starts the real API server in-process on an ephemeral port: PGlite under a temp DATA_DIR, or a
 * scratch database on server PostgreSQL (through PgBouncer in CI) when DATABASE_URL is set; Redis
 * when REDIS_URL is set. `env` overrides settings (e.g. RATE_LIMITS).
 */
export async function startTestApi(env: Record<string, string> = {}): Promise<TestApi> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "potentia-api-"));
  let t: TestDatabase | undefined;
  const dbEnv: Record<string, string> = {};
  if (process.env.DATABASE_URL) {
    t = await createTestDatabase();
    dbEnv.DATABASE_URL = t.url!;
    dbEnv.DATABASE_URL_DIRECT = t.directUrl!;
  }
  if (process.env.REDIS_URL) {
    dbEnv.REDIS_URL = process.env.REDIS_URL;
    dbEnv.REDIS_PREFIX = `${process.env.REDIS_PREFIX ?? "test:"}${randomUUID()}:`;
  }
  const parsed = parseEnv({
    API_PORT: "0",
    HOST: "127.0.0.1",
    DATA_DIR: dataDir,
    LOG_LEVEL: "silent",
    ...dbEnv,
    ...env,
  });
  const app = await startApp(parsed, createLogger(parsed.LOG_LEVEL));
  const db = app.deps.db;

  const fetchAs =
    (token: string | null): TestUser["fetch"] =>
    (pathname, init = {}) => {
      const headers = new Headers(init.headers);
      if (token) headers.set("authorization", `Bearer ${token}`);
      let body = init.body;
      if (init.json !== undefined) {
        headers.set("content-type", "application/json");
        body = JSON.stringify(init.json);
      }
      return fetch(`${app.url}${pathname}`, { ...init, headers, body });
    };

  return {
    app,
    url: app.url,
    async user(name = "Test User") {
      const userId = await seedUser(db, name);
      const token = await app.deps.tokens.issue(userId);
      return { userId, token, fetch: fetchAs(token) };
    },
    canvas: (owner, title) => seedCanvas(db, owner.userId, title),
    async member(canvasId, user, role) {
      await db.query(
        `INSERT INTO canvas_members (canvas_id, user_id, role) VALUES ($1, $2, $3)
         ON CONFLICT (canvas_id, user_id) DO UPDATE SET role = EXCLUDED.role`,
        [canvasId, user.userId, role],
      );
    },
    anonymous: fetchAs(null),
    async stop() {
      await app.stop();
      await t?.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
