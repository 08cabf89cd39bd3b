/**
 * The SQL migration runner (DB-8): applies prisma/migrations/<name>/migration.sql in name order,
 * each in its own transaction, and keeps Prisma's `_prisma_migrations` table exactly as
 * `prisma migrate deploy` would, so `prisma migrate status` agrees on machines with the engine.
 *
 * Run it on a DIRECT connection (DATABASE_URL_DIRECT), never through PgBouncer: migrations are
 * long, take locks and build indexes. Serialisation across processes uses a transaction-level
 * advisory lock on Prisma's own key, so this runner and Prisma's exclude each other too.
 */
import { createHash, randomUUID } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Database, SqlClient } from "./sql";

/** The advisory lock key `prisma migrate` uses (prisma-engines, postgres flavour). */
export const MIGRATION_LOCK_KEY = 72707369;
export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL("../../prisma/migrations", import.meta.url));
/** Months of system_audit partitions kept ready ahead (DB-5 asks for at least two). */
const AUDIT_MONTHS_AHEAD = 3;

export interface MigrateOptions {
  /** Folder holding `<name>/migration.sql`; default prisma/migrations. */
  dir?: string;
  log?: (line: string) => void;
}

export interface MigrateResult {
  /** Names of the migrations this run applied, in order (empty when up to date). */
  applied: string[];
  /** Whether blocks.vector is usable after the ensure step (DB-7). */
  vector: boolean;
}

export interface MigrationFile {
  name: string;
  sql: string;
  /** sha256 hex of the file's bytes, as Prisma records it. */
  checksum: string;
}

/** An applied migration's file no longer matches what was applied: refuse to go on. */
export class MigrationChecksumError extends Error {
  constructor(readonly migration: string) {
    super(
      `migration ${migration} was modified after it was applied (checksum differs); ` +
        "restore the file, or add a new migration instead of editing an applied one",
    );
    this.name = "MigrationChecksumError";
  }
}

/** A migration left unfinished (by `prisma migrate` or a crash outside a transaction). */
export class MigrationFailedError extends Error {
  constructor(readonly migration: string) {
    super(
      `migration ${migration} is recorded as started but not finished; ` +
        "resolve it (prisma migrate resolve --rolled-back or fix the database) before migrating",
    );
    this.name = "MigrationFailedError";
  }
}

// Prisma's own DDL for its history table (prisma-engines, sql-schema-connector, postgres).
const CREATE_HISTORY_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id"                  VARCHAR(36) PRIMARY KEY NOT NULL,
  "checksum"            VARCHAR(64) NOT NULL,
  "finished_at"         TIMESTAMPTZ,
  "migration_name"      VARCHAR(255) NOT NULL,
  "logs"                TEXT,
  "rolled_back_at"      TIMESTAMPTZ,
  "started_at"          TIMESTAMPTZ NOT NULL DEFAULT now(),
  "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`;

interface HistoryRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
}

export async function readMigrations(dir: string = DEFAULT_MIGRATIONS_DIR): Promise<MigrationFile[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  const files: MigrationFile[] = [];
  for (const name of names) {
    let bytes: Buffer;
    try {
      bytes = await readFile(join(dir, name, "migration.sql"));
    } catch {
      continue; // a folder without migration.sql is not a migration (Prisma skips it too)
    }
    files.push({
      name,
      sql: bytes.toString("utf8"),
      checksum: createHash("sha256").update(bytes).digest("hex"),
    });
  }
  return files;
}

/** Runs `fn` in a transaction that holds the migration lock and has no statement timeout. */
function locked<T>(db: Database, fn: (tx: SqlClient) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await tx.query("SET LOCAL statement_timeout = 0");
    await tx.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK_KEY]);
    return fn(tx);
  });
}

/** Applied (not rolled back) history rows by migration name. */
async function history(tx: SqlClient): Promise<Map<string, HistoryRow>> {
  const rows = await tx.query<HistoryRow>(
    `SELECT migration_name, checksum, finished_at FROM "_prisma_migrations"
      WHERE rolled_back_at IS NULL ORDER BY started_at`,
  );
  return new Map(rows.map((r) => [r.migration_name, r]));
}

function check(file: MigrationFile, row: HistoryRow | undefined): "apply" | "skip" {
  if (!row) return "apply";
  if (row.finished_at === null) throw new MigrationFailedError(file.name);
  if (row.checksum !== file.checksum) throw new MigrationChecksumError(file.name);
  return "skip";
}

/**
 * Applies every pending migration, then runs the ensure step (audit partitions ahead, pgvector
 * column and index when the extension is available). Idempotent; safe to run from several
 * processes at once.
 */
export async function migrate(db: Database, opts: MigrateOptions = {}): Promise<MigrateResult> {
  const log = opts.log ?? (() => {});
  const files = await readMigrations(opts.dir);

  // Create the history table and validate everything applied so far before touching anything.
  const known = await locked(db, async (tx) => {
    await tx.query(CREATE_HISTORY_TABLE);
    const applied = await history(tx);
    for (const file of files) check(file, applied.get(file.name));
    return applied;
  });
  const names = new Set(files.map((f) => f.name));
  for (const name of known.keys()) {
    if (!names.has(name)) log(`warning: ${name} is recorded as applied but has no migration folder here`);
  }

  const applied: string[] = [];
  for (const file of files) {
    if (known.has(file.name)) continue;
    const started = performance.now();
    const ran = await locked(db, async (tx) => {
      // Another process may have applied it while we waited for the lock.
      const row = (
        await tx.query<HistoryRow>(
          `SELECT migration_name, checksum, finished_at FROM "_prisma_migrations"
          WHERE migration_name = $1 AND rolled_back_at IS NULL`,
          [file.name],
        )
      )[0];
      if (check(file, row) === "skip") return false;
      const id = randomUUID();
      await tx.query(
        `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count)
         VALUES ($1, $2, $3, now(), 0)`,
        [id, file.checksum, file.name],
      );
      // No parameters: the whole file goes as one simple-protocol query (several statements).
      await tx.query(file.sql);
      await tx.query(
        `UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1`,
        [id],
      );
      return true;
    }).catch((err: unknown) => {
      if (err instanceof MigrationChecksumError || err instanceof MigrationFailedError) throw err;
      const message = err instanceof Error ? err.message : String(err);
      throw new Error(`migration ${file.name} failed and was rolled back: ${message}`, { cause: err });
    });
    if (ran) {
      applied.push(file.name);
      log(`applied ${file.name} (${Math.round(performance.now() - started)} ms)`);
    }
  }

  const vector = await ensure(db, log);
  return { applied, vector };
}

/**
 * What must hold after every migrate whatever the history says: audit partitions ahead (the
 * calendar moves on) and pgvector wired up (the extension may have been installed since).
 */
async function ensure(db: Database, log: (line: string) => void): Promise<boolean> {
  return locked(db, async (tx) => {
    const [fns] = await tx.query<{ audit: boolean; vector: boolean }>(
      `SELECT to_regprocedure('ensure_audit_partitions(integer)') IS NOT NULL AS audit,
              to_regprocedure('ensure_vector()') IS NOT NULL AS vector`,
    );
    if (fns?.audit) {
      const [row] = await tx.query<{ created: number }>(
        "SELECT ensure_audit_partitions($1::int) AS created",
        [AUDIT_MONTHS_AHEAD],
      );
      if (row && row.created > 0) log(`created ${row.created} system_audit partition(s)`);
    }
    if (!fns?.vector) return false;
    const [row] = await tx.query<{ ok: boolean }>("SELECT ensure_vector() AS ok");
    return row?.ok === true;
  });
}
