/**
 * The one database port everything above `server/db` uses for raw SQL.
 * Two implementations: `pgDatabase.ts` (node-postgres Pool, possibly through PgBouncer in
 * transaction pooling mode: no session state, no named prepared statements) and
 * `pgliteDatabase.ts` (embedded PGlite, one session, everything serialised).
 */
export interface SqlClient {
  /** Runs one statement with $1..$n parameters and returns its rows. */
  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<R[]>;
}

export interface Database extends SqlClient {
  readonly kind: "pglite" | "postgres";
  /** Runs `fn` inside BEGIN/COMMIT on one connection; ROLLBACK when it throws. */
  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
