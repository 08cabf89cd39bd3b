/**
 * `npm start` (after `npm run build`): the API server and the built Next.js app in production
 * mode. Production mode (DATABASE_URL / REDIS_URL) refuses to start without signing keys
 * (CMD-1): set JWT_PRIVATE_KEY, JWT_PUBLIC_KEYS and NEXTAUTH_SECRET. Single-node mode (neither
 * URL set) uses keys and a secret generated once into DATA_DIR, so a fresh clone can try the
 * production build locally.
 */
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { parseEnvOrExit } from "../server/env";
import { apiTrustedProxies, singleNodeKeys, webEnv } from "./localSecrets";
import { supervise } from "./supervise";

if (await singleNodeKeys()) {
  console.log("single-node mode: signing keys from DATA_DIR/keys (configure JWT_* keys for production)");
}
const env = parseEnvOrExit();
const root = path.resolve(import.meta.dirname, "..");
const bin = (name: string) => path.join(root, "node_modules/.bin", name);
const web = await webEnv(env).catch((error: Error) => {
  process.stderr.write(`potentia: ${error.message}\n`);
  process.exit(78);
});

const children: ChildProcess[] = [
  spawn(bin("tsx"), ["server/main.ts"], {
    cwd: root,
    stdio: "inherit",
    env: { DEMO: "on", ...process.env, TRUSTED_PROXIES: apiTrustedProxies() },
  }),
  // The web front (SEC-4): the built Next.js app behind a server that knows each peer.
  spawn(bin("tsx"), ["scripts/webServer.ts"], {
    cwd: root,
    stdio: "inherit",
    env: {
      NEXT_TELEMETRY_DISABLED: "1",
      ...process.env,
      ...web,
      HOST: env.HOST,
      WEB_PORT: String(env.WEB_PORT),
    },
  }),
];

console.log(`\nPOTENTIA (${env.mode} mode, production build)\n  web app:    ${web.NEXTAUTH_URL}\n`);

supervise(children);
