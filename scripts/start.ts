/**
 * `npm start` (after `npm run build`): the API server and the built Next.js app in production
 * mode. Production refuses to start without signing keys (CMD-1): set JWT_PRIVATE_KEY and
 * JWT_PUBLIC_KEYS, and normally DATABASE_URL / REDIS_URL.
 */
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { ConfigError, parseEnv } from "../server/env";

let env: ReturnType<typeof parseEnv>;
try {
  env = parseEnv();
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`potentia: ${error.message}\n`);
    process.exit(78);
  }
  throw error;
}
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

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  for (const child of children) child.kill("SIGTERM");
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
for (const child of children) {
  child.on("exit", (code) => {
    if (!stopping) {
      console.error(`a process exited (${code}); stopping`);
      stop();
    }
    if (children.every((c) => c.exitCode !== null || c.signalCode !== null)) process.exit(code ?? 0);
  });
}
