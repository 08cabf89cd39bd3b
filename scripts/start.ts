/**
 * `npm start` (after `npm run build`): the API server and the built Next.js app in production
 * mode. Production refuses to start without signing keys (CMD-1): set JWT_PRIVATE_KEY and
 * JWT_PUBLIC_KEYS, and normally DATABASE_URL / REDIS_URL.
 */
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { parseEnvOrExit } from "../server/env";
import { supervise } from "./supervise";

const env = parseEnvOrExit();
const root = path.resolve(import.meta.dirname, "..");
const bin = (name: string) => path.join(root, "node_modules/.bin", name);

const children: ChildProcess[] = [
  spawn(bin("tsx"), ["server/main.ts"], { cwd: root, stdio: "inherit", env: process.env }),
  spawn(bin("next"), ["start", "--port", String(env.WEB_PORT)], {
    cwd: root,
    stdio: "inherit",
    env: process.env,
  }),
];

supervise(children);
