/**
 * One scratch database per test file.
 *
 * With DATABASE_URL set (CI: PgBouncer on 6432, DATABASE_URL_DIRECT on 5432): creates
 * `potentia_t_<random>` over the direct URL, migrates it there (never through PgBouncer), and
 * hands back a Database connected through DATABASE_URL with the database name swapped, so the
 * code under test runs through PgBouncer like production. Without DATABASE_URL: in-memory PGlite.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { migrate } from "../../server/db/migrate";
import { createPgDatabase } from "../../server/db/pgDatabase";
import { createPgliteDatabase } from "../../server/db/pgliteDatabase";
import type { Database } from "../../server/db/sql";

export interface TestDatabase {
  db: Database;
  /** Query URL of the scratch database (through PgBouncer in CI); unset on PGlite. */
  url?: string;
  /** Direct URL of the scratch database (LISTEN, a second process's migrations); unset on PGlite. */
  directUrl?: string;
  /** Closes `db` and drops the scratch database. Idempotent. */
  drop(): Promise<void>;
}

export interface TestDatabaseOptions {
  /** Apply the migrations (default true); false leaves an empty database, e.g. for legacy fixtures. */
  migrate?: boolean;
}

/** `url` with its database name replaced by `name`. */
export function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

async function admin<T>(directUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: directUrl, application_name: "potentia-tests" });
  client.on("error", () => {}); // a server restart mid-test must not crash the runner
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

export async function createTestDatabase(opts: TestDatabaseOptions = {}): Promise<TestDatabase> {
  const queryUrl = process.env.DATABASE_URL;
  if (!queryUrl) {
    const db = await createPgliteDatabase(null);
    if (opts.migrate !== false) await migrate(db);
    return { db, drop: () => db.close() };
  }

  const baseDirect = process.env.DATABASE_URL_DIRECT || queryUrl;
  const name = `potentia_t_${randomBytes(6).toString("hex")}`;
  // Identifier is ours (hex), so plain interpolation is safe; CREATE DATABASE takes no parameters.
  await admin(baseDirect, (c) => c.query(`CREATE DATABASE ${name}`));
  const directUrl = withDatabase(baseDirect, name);
  const url = withDatabase(queryUrl, name);

  const dropDatabase = () =>
    admin(baseDirect, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  try {
    if (opts.migrate !== false) {
      const direct = createPgDatabase(directUrl, { max: 1, applicationName: "potentia-tests-migrate" });
      try {
        await migrate(direct);
      } finally {
        await direct.close();
      }
    }
  } catch (err) {
    await dropDatabase().catch(() => {});
    throw err;
  }

  const db = createPgDatabase(url, { max: 5, applicationName: "potentia-tests" });
  let dropped: Promise<void> | null = null;
  return {
    db,
    url,
    directUrl,
    drop() {
      dropped ??= (async () => {
        await db.close();
        await dropDatabase();
      })();
      return dropped;
    },
  };
}
