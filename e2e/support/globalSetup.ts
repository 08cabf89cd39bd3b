import { fork } from "node:child_process";
import path from "node:path";
import type { StackMessage } from "./serverStack";

/**
 * Starts the e2e stack (e2e/support/serverStack.ts) in a child process and waits until the API
 * and the built web app answer; the returned function is Playwright's global teardown.
 */
export default async function globalSetup(): Promise<() => Promise<void>> {
  const stack = fork(path.join(import.meta.dirname, "serverStack.ts"), [], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const exited = new Promise<void>((resolve) => stack.once("exit", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    // Build ~1 min + two servers; generous so a loaded CI machine is not a failure.
    const timer = setTimeout(() => reject(new Error("e2e stack did not start within 5 minutes")), 300_000);
    stack.on("message", (message: StackMessage) => {
      clearTimeout(timer);
      if (message.type === "ready") resolve();
      else reject(new Error(`e2e stack failed: ${message.error}`));
    });
    stack.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`e2e stack exited (${code}) before it was ready`));
    });
  }).catch(async (error: unknown) => {
    stack.kill("SIGTERM");
    await exited;
    throw error;
  });
  return async () => {
    stack.kill("SIGTERM");
    await exited;
  };
}
