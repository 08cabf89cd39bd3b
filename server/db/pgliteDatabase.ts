/**
 * The `Database` port over embedded PGlite (single-node mode), with pgvector loaded.
 *
 * PGlite is one PostgreSQL session in this process: every query and transaction runs one after
 * another (its own mutex). Inside `transaction(fn)` use the `tx` handed to `fn`: a call to the
 * outer `query()` from inside would wait for the transaction to end, i.e. forever.
 *
 * Cold open measured on the 2-core dev machine: ~1.7–3 s for a new database, in memory or in a
 * new data directory (initdb runs in WASM; up to ~5 s under load), ~0.25 s to reopen an existing
 * data directory; `openMs` reports it.
 */
import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { vector } from "@electric-sql/pglite-pgvector";
import type { Database, SqlClient } from "./sql";

export interface PgliteDatabase extends Database {
  readonly kind: "pglite";
  /** Shared with the Prisma adapter and with `pglite.listen` (ports/notify). */
  readonly pglite: PGlite;
  /** How long opening took (initdb or recovery plus loading pgvector), in ms. */
  readonly openMs: number;
}

type Queryable = Pick<PGlite, "query" | "exec">;

async function run<R>(db: Queryable, text: string, params?: readonly unknown[]): Promise<R[]> {
  if (params && params.length > 0) {
    return (await db.query<R>(text, params as unknown[])).rows;
  }
  // Without parameters use the simple protocol, which also accepts several statements (a
  // migration file), like pg does; the rows are those of the last statement.
  const results = await db.exec(text);
  return (results[results.length - 1]?.rows ?? []) as R[];
}

export interface PgliteDatabaseOptions {
  /** Load pgvector (default true). False stands for a server without it, in tests of DB-7. */
  vector?: boolean;
}

/** Opens (creating if needed) the embedded database in `dataDir`; null keeps it in memory. */
export async function createPgliteDatabase(
  dataDir: string | null,
  opts: PgliteDatabaseOptions = {},
): Promise<PgliteDatabase> {
  const started = performance.now();
  if (dataDir !== null) mkdirSync(dataDir, { recursive: true });
  // "memory://" rather than undefined: PGlite 0.5 ignores the options of `new PGlite(undefined, …)`,
  // so the extension would silently not load.
  const pglite = new PGlite(dataDir ?? "memory://", {
    extensions: opts.vector === false ? {} : { vector },
  });
  await pglite.waitReady;
  const openMs = Math.round(performance.now() - started);

  let closed: Promise<void> | null = null;

  return {
    kind: "pglite",
    pglite,
    openMs,

    query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<R[]> {
      return run<R>(pglite, text, params);
    },

    transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
      // pglite.transaction issues BEGIN, COMMITs when fn resolves, ROLLBACKs when it throws.
      return pglite.transaction(async (t) => {
        const tx: SqlClient = {
          query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<R[]> {
            return run<R>(t, text, params);
          },
        };
        return fn(tx);
      });
    },

    close(): Promise<void> {
      closed ??= pglite.closed ? Promise.resolve() : pglite.close();
      return closed;
    },
  };
}
