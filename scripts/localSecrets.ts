/**
 * Settings the web app and (in single-node mode) the API server need, derived for `npm run dev`
 * and `npm start`: where the API is, next-auth's URL and secret. A secret that is not configured
 * is generated once into DATA_DIR, so sessions survive restarts.
 */
import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { loadSigningKeys } from "../server/auth/keys";
import type { Env } from "../server/env";

async function fileSecret(dataDir: string, name: string): Promise<string> {
  const file = path.resolve(dataDir, name);
  try {
    return (await readFile(file, "utf8")).trim();
  } catch {
    const secret = randomBytes(32).toString("base64url");
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    // "wx": if another process won the race, its secret is the one read back below.
    await writeFile(file, `${secret}\n`, { mode: 0o600, flag: "wx" }).catch(() => undefined);
    return (await readFile(file, "utf8")).trim();
  }
}

/** Environment for the Next.js process. */
export async function webEnv(env: Env): Promise<Record<string, string>> {
  const out: Record<string, string> = {
    API_URL: process.env.API_URL ?? `http://127.0.0.1:${env.API_PORT}`,
    NEXTAUTH_URL: process.env.NEXTAUTH_URL ?? `http://127.0.0.1:${env.WEB_PORT}`,
    NEXTAUTH_SECRET: process.env.NEXTAUTH_SECRET ?? "",
  };
  if (!out.NEXTAUTH_SECRET) {
    if (env.mode === "production" && env.NODE_ENV === "production") {
      throw new Error("NEXTAUTH_SECRET is required in production mode (several web processes share it)");
    }
    out.NEXTAUTH_SECRET = await fileSecret(env.DATA_DIR, "nextauth-secret");
  }
  return out;
}

/**
 * Single-node `npm start` (no DATABASE_URL / REDIS_URL): signing keys from DATA_DIR (generated
 * once) are put into the environment as JWT_PRIVATE_KEY / JWT_PUBLIC_KEYS before it is parsed.
 * Production mode still refuses to start without configured keys (CMD-1): several processes
 * must share one key, which only configuration can give them.
 */
export async function singleNodeKeys(source: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const production = Boolean(source.DATABASE_URL || source.REDIS_URL);
  if (production || (source.JWT_PRIVATE_KEY && source.JWT_PUBLIC_KEYS)) return false;
  const dataDir = source.DATA_DIR || ".data";
  const keys = await loadSigningKeys({ dataDir });
  source.JWT_PRIVATE_KEY = await readFile(path.resolve(dataDir, "keys", "jwt-es256.pem"), "utf8");
  source.JWT_PUBLIC_KEYS = JSON.stringify(keys.jwks);
  return true;
}

/**
 * SEC-4: the API server's TRUSTED_PROXIES under the launchers: the operator's own list (a load
 * balancer) plus loopback, the web app's hop, so the address the web app passes on (the
 * browser's) is what the API's AUTH limit and audit rows see.
 */
export function apiTrustedProxies(source: NodeJS.ProcessEnv = process.env): string {
  return [source.TRUSTED_PROXIES, "loopback"].filter(Boolean).join(",");
}
