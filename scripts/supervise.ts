import type { ChildProcess } from "node:child_process";

/**
 * Runs child processes side by side: SIGINT/SIGTERM stops them all, and when one exits on its
 * own the others are stopped too; the parent exits once every child has.
 */
export function supervise(children: ChildProcess[]): void {
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
}
