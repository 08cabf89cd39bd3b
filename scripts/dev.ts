/**
 * `npm run dev`: the API server (with reload, single-node unless DATABASE_URL / REDIS_URL are
 * set) and the Next.js web app, side by side. Ctrl+C stops both.
 */
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { parseEnvOrExit } from "../server/env";
import { DEMO_EMAIL, DEMO_PASSWORD } from "../server/services/demo";
import { apiTrustedProxies, webEnv } from "./localSecrets";
import { supervise } from "./supervise";

const env = parseEnvOrExit();
const web = await webEnv(env);
const root = path.resolve(import.meta.dirname, "..");
const bin = (name: string) => path.join(root, "node_modules/.bin", name);
const apiUrl = `http://127.0.0.1:${env.API_PORT}`;

const children: ChildProcess[] = [
  spawn(bin("tsx"), ["watch", "--clear-screen=false", "server/main.ts"], {
    cwd: root,
    stdio: "inherit",
    env: { DEMO: "on", ...process.env, TRUSTED_PROXIES: apiTrustedProxies() },
  }),
  // The web front (SEC-4): Next.js in development mode behind a server that knows each peer.
  spawn(bin("tsx"), ["scripts/webServer.ts", "--dev"], {
    cwd: root,
    stdio: "inherit",
    env: {
      NEXT_TELEMETRY_DISABLED: "1",
      ...process.env,
      ...web,
      HOST: "127.0.0.1",
      WEB_PORT: String(env.WEB_PORT),
    },
  }),
];

const demo =
  env.mode === "single-node" && (process.env.DEMO ?? "on") === "on"
    ? `  demo login: ${DEMO_EMAIL} / ${DEMO_PASSWORD}  (canvas "Welcome to POTENTIA")\n`
    : "";
console.log(
  `\nPOTENTIA (${env.mode} mode)\n  web app:    http://127.0.0.1:${env.WEB_PORT}\n  API server: ${apiUrl}  (${apiUrl}/health, ${apiUrl}/ready, docs ${apiUrl}/api/docs)\n${demo}`,
);

supervise(children);
