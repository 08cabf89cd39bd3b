import type { SqlClient } from "../server/db/sql";
import type { Worker } from "./worker";

const SIX_HOURS_MS = 6 * 60 * 60 * 1000;

/**
 * DB-5: keeps monthly `system_audit` partitions at least two (here three) months ahead while the
 * process runs for months, on top of every `db:migrate` doing the same.
 */
export function createPartitionsWorker(
  db: SqlClient,
  opts: { intervalMs?: number; monthsAhead?: number; onError?: (error: unknown) => void } = {},
): Worker {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  const tick = () => {
    running ??= db
      .query("SELECT ensure_audit_partitions($1) AS created", [opts.monthsAhead ?? 3])
      .then(() => undefined, opts.onError)
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  return {
    name: "audit-partitions",
    async start() {
      if (timer) return;
      await tick();
      timer = setInterval(tick, opts.intervalMs ?? SIX_HOURS_MS);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
}
