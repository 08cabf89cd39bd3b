/**
 * The e2e stack as one process of its own, forked by globalSetup with an IPC channel:
 *
 *   1. a temp DATA_DIR, fresh ES256 signing keys and a random NEXTAUTH_SECRET;
 *   2. with DATABASE_URL set: a private database `potentia_e2e_<hex>` and Redis prefix
 *      `e2e:<hex>:` (dropped / deleted at the end); otherwise single-node PGlite in DATA_DIR;
 *   3. `next build` (once per run; E2E_SKIP_BUILD=1 reuses the last e2e build);
 *   4. the API server (NODE_ENV=production) and `next start`, then "ready" to the parent.
 *
 * It is a separate process so that the servers die with the run however the run ends: the
 * parent's teardown sends SIGTERM, and if the Playwright runner itself is killed the IPC
 * channel disconnects and this process stops everything on its own (CI shares this machine;
 * no orphans). Children stay in the caller's process group, so `timeout` reaches them too.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { exportJWK, generateKeyPair } from "jose";
import { E2E_API_PORT, E2E_API_URL, E2E_WEB_PORT, E2E_WEB_URL } from "./stackConfig";

type Env = Record<string, string | undefined>;

export type StackMessage = { type: "ready" } | { type: "failed"; error: string };

const root = path.resolve(import.meta.dirname, "../..");
export const logDir = path.join(root, "test-results", "servers");
const children: ChildProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];

function send(message: StackMessage): void {
  process.send?.(message);
}

function log(line: string): void {
  process.stderr.write(`[e2e stack] ${line}\n`);
}

async function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Spawns `node args` with its output in test-results/servers/<name>.log. */
function start(name: string, args: string[], env: Env): ChildProcess {
  const out = createWriteStream(path.join(logDir, `${name}.log`));
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: env as NodeJS.ProcessEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  children.push(child);
  return child;
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

/** Polls `url` until it answers with a status `accept`s, or `child` exits. */
async function waitForHttp(
  url: string,
  child: ChildProcess,
  name: string,
  timeoutMs: number,
  accept: (status: number) => boolean = () => true,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}); see ${logDir}/${name}.log`);
    }
    try {
      const res = await fetch(url, { redirect: "manual", signal: AbortSignal.timeout(5_000) });
      await res.arrayBuffer();
      if (accept(res.status)) return;
      await new Promise((r) => setTimeout(r, 250));
    } catch {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`${name} did not answer ${url} within ${timeoutMs} ms; see ${logDir}/${name}.log`);
}

async function signingKeys(): Promise<{ privateKey: string; publicKeys: string }> {
  const pair = await generateKeyPair("ES256", { extractable: true });
  const jwk = await exportJWK(pair.publicKey);
  const kid = `e2e-${randomBytes(4).toString("hex")}`;
  return {
    privateKey: JSON.stringify({ ...(await exportJWK(pair.privateKey)), kid }),
    publicKeys: JSON.stringify({ keys: [{ ...jwk, kid, alg: "ES256", use: "sig" }] }),
  };
}

/** With DATABASE_URL / REDIS_URL: a private database and Redis prefix, removed at the end. */
async function privateServices(id: string): Promise<Env> {
  const env: Env = {};
  const queryUrl = process.env.DATABASE_URL;
  if (queryUrl) {
    const pg = (await import("pg")).default;
    const baseDirect = process.env.DATABASE_URL_DIRECT || queryUrl;
    const name = `potentia_e2e_${id}`;
    const admin = async (sql: string) => {
      const client = new pg.Client({ connectionString: baseDirect, application_name: "potentia-e2e" });
      client.on("error", () => {});
      await client.connect();
      try {
        await client.query(sql);
      } finally {
        await client.end().catch(() => {});
      }
    };
    const withDb = (url: string) => {
      const u = new URL(url);
      u.pathname = `/${name}`;
      return u.toString();
    };
    // The name is ours (hex): plain interpolation is safe; CREATE DATABASE takes no parameters.
    await admin(`CREATE DATABASE ${name}`);
    cleanups.push(() => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    env.DATABASE_URL = withDb(queryUrl);
    env.DATABASE_URL_DIRECT = withDb(baseDirect);
    log(`private database ${name}`);
  }
  if (process.env.REDIS_URL) {
    const prefix = `e2e:${id}:`;
    env.REDIS_PREFIX = prefix;
    cleanups.push(async () => {
      const { Redis } = await import("ioredis");
      const redis = new Redis(process.env.REDIS_URL as string, {
        lazyConnect: true,
        maxRetriesPerRequest: 1,
      });
      try {
        await redis.connect();
        let cursor = "0";
        do {
          const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500);
          cursor = next;
          if (keys.length > 0) await redis.del(...keys);
        } while (cursor !== "0");
      } finally {
        redis.disconnect();
      }
    });
    log(`private Redis prefix ${prefix}`);
  }
  return env;
}

let stopping: Promise<void> | undefined;
function stopAll(exitCode: number): Promise<void> {
  stopping ??= (async () => {
    for (const child of [...children].reverse()) {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    }
    await Promise.all(
      children.map(async (child) => {
        const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
        await exited(child);
        clearTimeout(timer);
      }),
    );
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch((error: unknown) => log(`cleanup failed: ${(error as Error).message}`));
    }
    process.exit(exitCode);
  })();
  return stopping;
}

async function main(): Promise<void> {
  mkdirSync(logDir, { recursive: true });
  for (const [name, port] of [
    ["API", E2E_API_PORT],
    ["web", E2E_WEB_PORT],
  ] as const) {
    if (await portInUse(port)) {
      throw new Error(
        `${name} port ${port} is already in use (a leftover e2e run? set E2E_${name.toUpperCase()}_PORT)`,
      );
    }
  }
  const id = randomBytes(6).toString("hex");
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "potentia-e2e-"));
  cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
  const keys = await signingKeys();
  const services = await privateServices(id);

  // Only what the servers need: nothing of the caller's DATABASE_URL etc. leaks in unswapped.
  const base: Env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TMPDIR: process.env.TMPDIR,
    NEXT_TELEMETRY_DISABLED: "1",
    API_PORT: String(E2E_API_PORT),
    WEB_PORT: String(E2E_WEB_PORT),
    API_URL: E2E_API_URL,
    NEXT_PUBLIC_API_URL: E2E_API_URL,
    NEXTAUTH_URL: E2E_WEB_URL,
    NEXTAUTH_SECRET: randomBytes(32).toString("base64url"),
    ALLOWED_ORIGINS: E2E_WEB_URL,
  };

  // E2E_SKIP_BUILD=1 reuses the last e2e build (API_URL is read at run time by src/proxy.ts,
  // so a build serves any ports). The stamp tells our completed build from a dev-only .next.
  const stampFile = path.join(root, ".next", "e2e-build.json");
  let reusable = false;
  try {
    reusable = readFileSync(stampFile, "utf8").length > 0;
  } catch {
    // no stamp: not a finished e2e build
  }
  if (process.env.E2E_SKIP_BUILD === "1" && !reusable) {
    log("E2E_SKIP_BUILD=1, but .next holds no finished e2e build: building");
  }
  if (process.env.E2E_SKIP_BUILD !== "1" || !reusable) {
    rmSync(stampFile, { force: true });
    const t0 = Date.now();
    log("next build (about a minute)…");
    const build = start("build", [path.join(root, "node_modules/next/dist/bin/next"), "build"], {
      ...base,
      NODE_ENV: "production",
    });
    const code = await exited(build);
    if (code !== 0) throw new Error(`next build failed (exit ${code}); see ${logDir}/build.log`);
    writeFileSync(stampFile, JSON.stringify({ built: new Date().toISOString() }));
    log(`next build done in ${Math.round((Date.now() - t0) / 1000)} s`);
  }

  const api = start("api", ["--import", "tsx", path.join(root, "server/main.ts")], {
    ...base,
    ...services,
    REDIS_URL: process.env.REDIS_URL,
    NODE_ENV: "production",
    HOST: "127.0.0.1",
    DATA_DIR: dataDir,
    JWT_PRIVATE_KEY: keys.privateKey,
    JWT_PUBLIC_KEYS: keys.publicKeys,
    // SEC-4: the web app's hop (loopback) is a trusted proxy, as under npm run dev / npm start.
    TRUSTED_PROXIES: "loopback",
    // Every browser of the suite has one address (127.0.0.1), so every sign-up and sign-in
    // shares one per-IP AUTH budget (10/min): it would throttle the suite, not protect anything.
    RATE_LIMITS: JSON.stringify({ AUTH: { points: 1000, duration: 60 } }),
  });
  const web = start(
    "web",
    [
      path.join(root, "node_modules/next/dist/bin/next"),
      "start",
      "--port",
      String(E2E_WEB_PORT),
      "--hostname",
      "127.0.0.1",
    ],
    { ...base, NODE_ENV: "production" },
  );
  await Promise.all([
    // /ready, not /health: it checks the database (and Redis) the tests are about to use.
    waitForHttp(`${E2E_API_URL}/ready`, api, "api", 120_000, (status) => status === 200),
    waitForHttp(`${E2E_WEB_URL}/signin`, web, "web", 120_000),
  ]);
  // A server that dies mid-run fails the run loudly rather than as a hundred timeouts.
  for (const [name, child] of [
    ["api", api],
    ["web", web],
  ] as const) {
    child.once("exit", (code, signal) => {
      if (!stopping) log(`${name} exited unexpectedly (${code ?? signal}); see ${logDir}/${name}.log`);
    });
  }
  log(`API ${E2E_API_URL} (${services.DATABASE_URL ? "PostgreSQL" : "PGlite"}), web ${E2E_WEB_URL}`);
  send({ type: "ready" });
}

process.on("SIGTERM", () => void stopAll(0));
process.on("SIGINT", () => void stopAll(0));
// The runner went away (killed, crashed): stop the servers ourselves.
process.on("disconnect", () => void stopAll(0));

main().catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  log(message);
  send({ type: "failed", error: message });
  void stopAll(1);
});
