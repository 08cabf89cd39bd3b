/**
 * `npm run db:migrate` (DB-8, CMD): applies pending migrations to DATABASE_URL_DIRECT (else
 * DATABASE_URL), or to the embedded database under DATA_DIR/pglite when neither is set.
 * Prints one line per applied migration and a summary; exits 1 with one line on failure.
 */
import { join, resolve } from "node:path";
import { migrate } from "../server/db/migrate";
import { createPgDatabase } from "../server/db/pgDatabase";
import { createPgliteDatabase } from "../server/db/pgliteDatabase";
import type { Database } from "../server/db/sql";

function describeTarget(url: string): string {
  // Never print credentials.
  const u = new URL(url);
  return `postgres ${u.hostname}:${u.port || "5432"}${u.pathname}`;
}

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL_DIRECT || process.env.DATABASE_URL;
  let db: Database;
  let target: string;
  if (url) {
    db = createPgDatabase(url, { max: 1, applicationName: "potentia-migrate" });
    target = describeTarget(url);
  } else {
    const dir = join(resolve(process.env.DATA_DIR || ".data"), "pglite");
    db = await createPgliteDatabase(dir);
    target = `embedded ${dir}`;
  }
  const started = performance.now();
  try {
    const { applied, vector } = await migrate(db, { log: (line) => console.log(line) });
    const ms = Math.round(performance.now() - started);
    const what = applied.length === 0 ? "up to date" : `${applied.length} migration(s) applied`;
    console.log(`${target}: ${what} in ${ms} ms; vector ${vector ? "available" : "unavailable"}`);
  } finally {
    await db.close();
  }
}

main().catch((err: unknown) => {
  console.error(`db:migrate failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
