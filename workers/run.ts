/**
 * `npm run workers`: hosts the background workers as their own process (production). Each is
 * `{ name, start(), stop() }` (WRK-4); SIGTERM stops them in reverse order.
 */
import { createPgDatabase } from "../server/db/pgDatabase";
import { parseEnvOrExit } from "../server/env";
import { createLogger } from "../server/observability/logger";
import { createPartitionsWorker } from "./partitions.worker";
import type { Worker } from "./worker";

const env = parseEnvOrExit("potentia workers");
if (!env.DATABASE_URL) {
  process.stderr.write(
    "potentia workers: DATABASE_URL is required (single-node mode runs workers inside the server)\n",
  );
  process.exit(78);
}

const log = createLogger(env.LOG_LEVEL, { process: "workers" });
const db = createPgDatabase(env.DATABASE_URL, { max: 2, applicationName: "potentia-workers" });
const workers: Worker[] = [
  createPartitionsWorker(db, {
    onError: (error) => log.error({ err: error }, "audit-partitions run failed"),
  }),
];
for (const worker of workers) {
  await worker.start();
  log.info({ worker: worker.name }, "worker started");
}

let stopping = false;
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    for (const worker of [...workers].reverse()) await worker.stop();
    await db.close();
    log.info("workers stopped");
    process.exit(0);
  });
}
