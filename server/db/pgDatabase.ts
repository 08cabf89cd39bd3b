/**
 * The `Database` port over a node-postgres Pool (server PostgreSQL, usually through PgBouncer).
 *
 * PgBouncer in transaction pooling mode hands each transaction (or each autocommit statement)
 * to whichever server connection is free, so nothing here relies on session state: statements
 * are unnamed (never `name:` → no server-side prepared statement outlives its transaction),
 * settings are `SET LOCAL`, and LISTEN lives elsewhere (a direct connection, ports/notify).
 */
import pg from "pg";
import type { Database, SqlClient } from "./sql";

export interface PgDatabaseOptions {
  /** Pool size (per process). */
  max?: number;
  /** Per-statement limit in ms; 0 or unset: none (migrations must not be cut short). */
  statementTimeoutMs?: number;
  applicationName?: string;
  /** Errors of idle pooled connections (server restart, network); the pool already dropped them. */
  onError?: (err: Error) => void;
}

export interface PgDatabase extends Database {
  readonly kind: "postgres";
  /** Shared with the Prisma adapter (server/db/prisma.ts) so one pool serves both. */
  readonly pool: pg.Pool;
}

const INT8_OID = 20;

// PGlite returns int8 as a number when it is a safe integer and a bigint otherwise; do the same
// here so code above the port sees one shape for server_seq and counts (pg's default: string).
function parseInt8(text: string): number | bigint {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : BigInt(text);
}

const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === INT8_OID && format !== "binary"
      ? parseInt8
      : pg.types.getTypeParser(oid, format ?? "text")) as pg.CustomTypesConfig["getTypeParser"],
};

/**
 * True when the error means the connection itself is unusable (as opposed to a statement
 * failing on a healthy connection): then the client must be destroyed, not returned to the pool.
 */
export function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  // Server errors carry a 5-character SQLSTATE; socket errors carry ECONNRESET & co. or nothing.
  if (typeof code !== "string" || !/^[0-9A-Z]{5}$/.test(code)) return true;
  // 08xxx connection exceptions; 57P01..57P03 admin/crash shutdown, cannot connect now.
  return code.startsWith("08") || code === "57P01" || code === "57P02" || code === "57P03";
}

async function run<R>(client: pg.Pool | pg.PoolClient, text: string, params?: readonly unknown[]) {
  // Without parameters pg uses the simple protocol, which also accepts several statements
  // (a migration file); the rows are those of the last statement.
  const res = (await (params && params.length > 0
    ? client.query(text, params as unknown[])
    : client.query(text))) as pg.QueryResult | pg.QueryResult[];
  const last = Array.isArray(res) ? res[res.length - 1] : res;
  return (last?.rows ?? []) as R[];
}

export function createPgDatabase(url: string, opts: PgDatabaseOptions = {}): PgDatabase {
  const timeout = Math.max(0, Math.floor(opts.statementTimeoutMs ?? 0));
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 10,
    application_name: opts.applicationName ?? "potentia",
    types,
    // A startup option works on a direct connection; PgBouncer ignores `options` (see
    // infra/pgbouncer.ini), which is why transactions also SET LOCAL below.
    ...(timeout > 0 ? { options: `-c statement_timeout=${timeout}` } : {}),
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
  });
  // Without a listener an idle client's error (e.g. Postgres restarting) would crash the process.
  pool.on("error", (err) => opts.onError?.(err));

  let closed: Promise<void> | null = null;

  return {
    kind: "postgres",
    pool,

    query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<R[]> {
      return run<R>(pool, text, params);
    },

    async transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      let broken: Error | undefined;
      // A checked-out client has no pool listener: an error while we hold it must not crash us.
      const onClientError = (err: Error) => {
        broken = err;
      };
      client.on("error", onClientError);
      let finished = false;
      const tx: SqlClient = {
        query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<R[]> {
          if (finished) return Promise.reject(new Error("transaction already finished"));
          return run<R>(client, text, params);
        },
      };
      try {
        // One round trip: the simple protocol takes both statements at once.
        await client.query(timeout > 0 ? `BEGIN; SET LOCAL statement_timeout = ${timeout}` : "BEGIN");
        const result = await fn(tx);
        finished = true;
        await client.query("COMMIT");
        return result;
      } catch (err) {
        finished = true;
        if (isConnectionError(err)) broken ??= err as Error;
        if (!broken) {
          try {
            await client.query("ROLLBACK");
          } catch (rollbackErr) {
            broken = rollbackErr as Error;
          }
        }
        throw err;
      } finally {
        client.removeListener("error", onClientError);
        // release(err) destroys the connection instead of pooling it.
        client.release(broken ?? false);
      }
    },

    close(): Promise<void> {
      closed ??= pool.end();
      return closed;
    },
  };
}
