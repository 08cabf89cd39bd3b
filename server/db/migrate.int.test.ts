import { createHash } from "node:crypto";
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../tests/support/testDb";
import { DEFAULT_MIGRATIONS_DIR, MigrationChecksumError, migrate, readMigrations } from "./migrate";
import { createPgDatabase } from "./pgDatabase";
import { createPgliteDatabase, type PgliteDatabase } from "./pgliteDatabase";
import type { Database } from "./sql";
import { vectorAvailable } from "./vector";

let t: TestDatabase;
let db: Database;
/** Migrations go to the direct server (never PgBouncer); on PGlite it is the same handle. */
let direct: Database;
const tmpDirs: string[] = [];

beforeAll(async () => {
  t = await createTestDatabase();
  db = t.db;
  direct = t.directUrl ? createPgDatabase(t.directUrl, { max: 2 }) : db;
});

afterAll(async () => {
  if (direct && direct !== db) await direct.close();
  await t?.drop();
  for (const dir of tmpDirs) rmSync(dir, { recursive: true, force: true });
});

/** A copy of prisma/migrations to tamper with, plus extra migrations by name. */
function migrationsCopy(extra: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "potentia-migrations-"));
  tmpDirs.push(dir);
  cpSync(DEFAULT_MIGRATIONS_DIR, dir, { recursive: true });
  for (const [name, sql] of Object.entries(extra)) {
    mkdirSync(join(dir, name));
    writeFileSync(join(dir, name, "migration.sql"), sql);
  }
  return dir;
}

const errorCode = (err: unknown) => (err as { code?: string }).code;

async function uuid(): Promise<string> {
  return (await db.query<{ id: string }>("SELECT gen_random_uuid()::text AS id"))[0]!.id;
}

async function seedCanvas(): Promise<string> {
  const user = await uuid();
  const canvas = await uuid();
  await db.query("INSERT INTO users (user_id, email, name, password_hash) VALUES ($1, $2, 'T', 'x')", [
    user,
    `${user}@example.test`,
  ]);
  await db.query("INSERT INTO canvas (canvas_id, title, owner_id) VALUES ($1, 'T', $2)", [canvas, user]);
  return canvas;
}

describe("migrate", () => {
  it("DB-8: records every migration in _prisma_migrations as Prisma does", async () => {
    const files = await readMigrations();
    const rows = await db.query<{
      id: string;
      checksum: string;
      migration_name: string;
      finished_at: Date | null;
      rolled_back_at: Date | null;
      logs: string | null;
      applied_steps_count: number;
    }>(`SELECT * FROM "_prisma_migrations" ORDER BY migration_name`);
    expect(rows.map((r) => r.migration_name)).toEqual(files.map((f) => f.name));
    for (const [i, row] of rows.entries()) {
      expect(row.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(row.checksum).toBe(files[i]!.checksum);
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.rolled_back_at).toBeNull();
      expect(row.logs).toBeNull();
      expect(row.applied_steps_count).toBe(1);
    }
    // The checksum is the sha256 of the file's bytes.
    const init = files.find((f) => f.name.endsWith("_init"))!;
    expect(init.checksum).toBe(createHash("sha256").update(init.sql, "utf8").digest("hex"));
  });

  it("DB-8: migrating again is a no-op", async () => {
    const before = await db.query(`SELECT id FROM "_prisma_migrations" ORDER BY id`);
    const result = await migrate(direct);
    expect(result.applied).toEqual([]);
    expect(await db.query(`SELECT id FROM "_prisma_migrations" ORDER BY id`)).toEqual(before);
  });

  it("DB-8: refuses to run when an applied migration was edited, and applies nothing", async () => {
    const dir = migrationsCopy({ "29990101000000_probe_edit": "CREATE TABLE probe_edit (id int);" });
    const init = (await readMigrations()).find((f) => f.name.endsWith("_init"))!;
    appendFileSync(join(dir, init.name, "migration.sql"), "\n-- edited after it was applied\n");
    const err = await migrate(direct, { dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MigrationChecksumError);
    expect((err as Error).message).toContain(init.name);
    const [row] = await db.query<{ t: string | null }>("SELECT to_regclass('probe_edit')::text AS t");
    expect(row?.t).toBeNull();
  });

  it("DB-8: a new migration is applied once, even by concurrent runners", async () => {
    const dir = migrationsCopy({
      "29990101000001_probe_new": "SELECT pg_sleep(0.2); CREATE TABLE probe_new (id int);",
    });
    const other = t.directUrl ? createPgDatabase(t.directUrl, { max: 1 }) : direct;
    try {
      const lines: string[] = [];
      const results = await Promise.all([
        migrate(direct, { dir, log: (l) => lines.push(l) }),
        migrate(other, { dir }),
      ]);
      expect(results.flatMap((r) => r.applied)).toEqual(["29990101000001_probe_new"]);
      expect(lines.some((l) => l.startsWith("applied 29990101000001_probe_new"))).toBe(
        results[0]!.applied.length === 1,
      );
      const rows = await db.query(`SELECT 1 FROM "_prisma_migrations" WHERE migration_name = $1`, [
        "29990101000001_probe_new",
      ]);
      expect(rows).toHaveLength(1);
      expect((await migrate(direct, { dir })).applied).toEqual([]);
    } finally {
      if (other !== direct) await other.close();
    }
  });

  it("DB-8: a failing migration rolls back entirely and is not recorded", async () => {
    const dir = migrationsCopy({
      "29990101000002_probe_fail": "CREATE TABLE probe_fail (id int); SELECT 1 / 0;",
    });
    await expect(migrate(direct, { dir })).rejects.toThrow(
      /29990101000002_probe_fail failed.*division by zero/,
    );
    const [row] = await db.query<{ t: string | null }>("SELECT to_regclass('probe_fail')::text AS t");
    expect(row?.t).toBeNull();
    expect(
      await db.query(`SELECT 1 FROM "_prisma_migrations" WHERE migration_name LIKE '%probe_fail'`),
    ).toEqual([]);
  });
});

describe("schema", () => {
  // Per table, the columns DB-1 (and the init migration) name.
  const expected: Record<string, string[]> = Object.fromEntries(
    Object.entries({
      users: "user_id email name password_hash created_at updated_at",
      canvas: "canvas_id title settings owner_id last_seq created_at updated_at deleted_at",
      canvas_members: "canvas_id user_id role last_active_at created_at",
      blocks:
        "block_id canvas_id parent_id type content props y_order version field_versions deleted_at " +
        "created_at created_by updated_at updated_by",
      block_operations:
        "server_seq prev_seq canvas_id block_id client_op_id user_id action status base_version " +
        "version payload payload_hash text_op content_set result error created_at",
      system_audit:
        "audit_id created_at actor_id canvas_id action target_id status ip user_agent latency_ms " +
        "affected_rows detail",
      refresh_tokens:
        "token_id user_id family_id token_hash expires_at created_at used_at revoked_at replaced_by",
      rpc_rate_limits: "user_id window_start count",
    }).map(([table, columns]) => [table, columns.split(" ")]),
  );

  it("DB-1: every table and column exists, with the types the SPEC names", async () => {
    const rows = await db.query<{ table_name: string; column_name: string }>(
      `SELECT table_name, column_name FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name = ANY($1::text[])`,
      [Object.keys(expected)],
    );
    for (const [table, columns] of Object.entries(expected)) {
      const have = rows.filter((r) => r.table_name === table).map((r) => r.column_name);
      expect(have, table).toEqual(expect.arrayContaining(columns));
    }
    const types = await db.query<{ column_name: string; udt_name: string; collation_name: string | null }>(
      `SELECT column_name, udt_name, collation_name FROM information_schema.columns
        WHERE table_name = 'blocks' AND column_name IN ('y_order', 'props', 'version', 'content')`,
    );
    const byName = Object.fromEntries(types.map((r) => [r.column_name, r]));
    expect(byName.y_order).toMatchObject({ udt_name: "text", collation_name: "C" });
    expect(byName.props?.udt_name).toBe("jsonb");
    expect(byName.version?.udt_name).toBe("int4");
    expect(byName.content?.udt_name).toBe("text");
  });

  it("DB-2: (canvas_id, y_order) is unique only at commit (deferrable, initially deferred)", async () => {
    const canvas = await seedCanvas();
    const [a, b] = [await uuid(), await uuid()];
    const insert = "INSERT INTO blocks (block_id, canvas_id, type, y_order) VALUES ($1, $2, 'text', $3)";
    // Two rows share a key mid-transaction: fine until COMMIT, which refuses.
    const err = await db
      .transaction(async (tx) => {
        await tx.query(insert, [a, canvas, "m"]);
        await tx.query(insert, [b, canvas, "m"]);
        expect(
          await tx.query("SELECT 1 FROM blocks WHERE canvas_id = $1 AND y_order = 'm'", [canvas]),
        ).toHaveLength(2);
      })
      .catch((e: unknown) => e);
    expect(errorCode(err)).toBe("23505");
    expect(await db.query("SELECT 1 FROM blocks WHERE canvas_id = $1", [canvas])).toHaveLength(0);
    // Swapping two keys passes through a duplicate and commits.
    await db.query(insert, [a, canvas, "m"]);
    await db.query(insert, [b, canvas, "n"]);
    await db.transaction(async (tx) => {
      await tx.query("UPDATE blocks SET y_order = 'n' WHERE block_id = $1", [a]);
      await tx.query("UPDATE blocks SET y_order = 'm' WHERE block_id = $1", [b]);
    });
    const order = await db.query<{ block_id: string }>(
      "SELECT block_id FROM blocks WHERE canvas_id = $1 ORDER BY y_order",
      [canvas],
    );
    expect(order.map((r) => r.block_id)).toEqual([b, a]);
    const [con] = await db.query<{ condeferrable: boolean; condeferred: boolean }>(
      "SELECT condeferrable, condeferred FROM pg_constraint WHERE conname = 'blocks_canvas_y_order_key'",
    );
    expect(con).toEqual({ condeferrable: true, condeferred: true });
  });

  it("DB-3: server_seq comes from the bigint sequence seq_block_events, monotonic", async () => {
    const [seq] = await db.query<{ data_type: string }>(
      "SELECT data_type FROM information_schema.sequences WHERE sequence_name = 'seq_block_events'",
    );
    expect(seq?.data_type).toBe("bigint");
    const values: number[] = [];
    for (let i = 0; i < 20; i++) {
      values.push((await db.query<{ v: number }>("SELECT nextval('seq_block_events') AS v"))[0]!.v);
    }
    for (let i = 1; i < values.length; i++) expect(values[i]!).toBeGreaterThan(values[i - 1]!);
    // Concurrent callers (separate pooled connections on PostgreSQL) never share a value.
    const parallel = await Promise.all(
      Array.from({ length: 20 }, () => db.query<{ v: number }>("SELECT nextval('seq_block_events') AS v")),
    );
    const seen = new Set(parallel.map((r) => r[0]!.v));
    expect(seen.size).toBe(20);
    expect(Math.min(...seen)).toBeGreaterThan(values[values.length - 1]!);
  });

  it("DB-5: system_audit has monthly partitions at least two months ahead; missing ones are created", async () => {
    const months = async (from: number, to: number) =>
      (
        await db.query<{ name: string }>(
          `SELECT format('system_audit_y%sm%s', to_char(m, 'YYYY'), to_char(m, 'MM')) AS name
             FROM generate_series($1::int, $2::int) AS i,
                  LATERAL (SELECT date_trunc('month', now()) + make_interval(months => i) AS m) AS mm`,
          [from, to],
        )
      ).map((r) => r.name);
    const partitions = async () =>
      (
        await db.query<{ name: string }>(
          `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'system_audit'::regclass`,
        )
      ).map((r) => r.name);
    expect(await partitions()).toEqual(expect.arrayContaining(await months(0, 2)));

    const [furthest] = await months(3, 3);
    await db.query(`DROP TABLE ${furthest}`);
    expect(await partitions()).not.toContain(furthest);
    const [made] = await db.query<{ n: number }>("SELECT ensure_audit_partitions(3) AS n");
    expect(made?.n).toBe(1);
    expect(await partitions()).toContain(furthest);
    // migrate's ensure step does the same on every run.
    await db.query(`DROP TABLE ${furthest}`);
    await migrate(direct);
    expect(await partitions()).toContain(furthest);
  });

  it("DB-5: rows of system_audit cannot be updated, deleted or truncated", async () => {
    await db.query("INSERT INTO system_audit (action, status) VALUES ('test.append', 'ok')");
    for (const sql of [
      "UPDATE system_audit SET status = 'changed'",
      "DELETE FROM system_audit",
      "TRUNCATE system_audit",
    ]) {
      const err = await db.query(sql).catch((e: unknown) => e);
      expect(errorCode(err), sql).toBe("42501");
      expect((err as Error).message).toMatch(/append-only/);
    }
    expect(await db.query("SELECT 1 FROM system_audit WHERE action = 'test.append'")).toHaveLength(1);
  });

  it("DB-6: writing a y_order longer than 8 characters raises NOTIFY rebalance_needed", async () => {
    const canvas = await seedCanvas();
    const received: string[] = [];
    let stop: () => Promise<void>;
    if (t.directUrl) {
      // LISTEN needs a direct session: through PgBouncer it would be silently lost.
      const client = new pg.Client({ connectionString: t.directUrl });
      client.on("error", () => {});
      await client.connect();
      client.on("notification", (n) => {
        if (n.channel === "rebalance_needed" && n.payload) received.push(n.payload);
      });
      await client.query("LISTEN rebalance_needed");
      stop = () => client.end();
    } else {
      const unlisten = await (db as PgliteDatabase).pglite.listen("rebalance_needed", (p) =>
        received.push(p),
      );
      stop = () => unlisten();
    }
    try {
      const insert = "INSERT INTO blocks (block_id, canvas_id, type, y_order) VALUES ($1, $2, 'text', $3)";
      await db.query(insert, [await uuid(), canvas, "abcdefgh"]); // 8: no signal
      await new Promise((r) => setTimeout(r, 300));
      expect(received).toEqual([]);
      const id = await uuid();
      await db.query(insert, [id, canvas, "abcdefghi"]); // 9
      await expect.poll(() => received, { timeout: 5_000 }).toEqual([canvas]);
      await db.query("UPDATE blocks SET y_order = 'abcdefghij' WHERE block_id = $1", [id]); // 10
      await expect.poll(() => received.length, { timeout: 5_000 }).toBe(2);
    } finally {
      await stop();
    }
  });

  it("DB-7: blocks.vector has the partial HNSW index and similarity queries use it", async (ctx) => {
    if (!(await vectorAvailable(db))) {
      console.log(
        "DB-7 (index half) skipped: this PostgreSQL has no pgvector; the no-pgvector half runs below",
      );
      ctx.skip();
    }
    const [idx] = await db.query<{ def: string }>(
      "SELECT indexdef AS def FROM pg_indexes WHERE indexname = 'blocks_vector_hnsw_idx'",
    );
    expect(idx?.def).toMatch(/USING hnsw \(vector (\w+\.)?vector_cosine_ops\)/);
    expect(idx?.def).toMatch(/WITH \(m='?16'?, ef_construction='?128'?\)/);
    expect(idx?.def).toMatch(/WHERE \(vector IS NOT NULL\)/);

    const canvas = await seedCanvas();
    await db.query(
      `INSERT INTO blocks (block_id, canvas_id, type, y_order, vector)
       SELECT gen_random_uuid(), $1, 'text', 'v' || i || 'z',
              (SELECT array_agg(sin(i * j))::real[] FROM generate_series(1, 1536) AS j)::vector
         FROM generate_series(1, 60) AS i`,
      [canvas],
    );
    const q = `[${Array.from({ length: 1536 }, (_, j) => Math.cos(j)).join(",")}]`;
    const plan = await db.transaction(async (tx) => {
      await tx.query("SET LOCAL enable_seqscan = off");
      const rows = await tx.query<{ "QUERY PLAN": string }>(
        `EXPLAIN SELECT block_id FROM blocks WHERE vector IS NOT NULL
          ORDER BY vector <=> $1::vector LIMIT 5`,
        [q],
      );
      return rows.map((r) => r["QUERY PLAN"]).join("\n");
    });
    expect(plan).toMatch(/Index Scan using blocks_vector_hnsw_idx/);
    const nearest = await db.query(
      "SELECT block_id FROM blocks WHERE vector IS NOT NULL ORDER BY vector <=> $1::vector LIMIT 5",
      [q],
    );
    expect(nearest).toHaveLength(5);
  });

  it("DB-7: without pgvector, migrate succeeds and the vector column is simply absent", async () => {
    // PGlite without the extension stands for a server PostgreSQL lacking pgvector.
    const bare = await createPgliteDatabase(null, { vector: false });
    try {
      const first = await migrate(bare);
      expect(first.vector).toBe(false);
      expect(first.applied).toContain("20261126000300_vector");
      expect(await vectorAvailable(bare)).toBe(false);
      const cols = await bare.query(
        "SELECT 1 FROM information_schema.columns WHERE table_name = 'blocks' AND column_name = 'vector'",
      );
      expect(cols).toEqual([]);
      const again = await migrate(bare);
      expect(again).toEqual({ applied: [], vector: false });
    } finally {
      await bare.close();
    }
  });
});

describe("Database port", () => {
  it("DB-8: int8 comes back as a number on both implementations (bigint past 2^53)", async () => {
    const [row] = await db.query<{ a: unknown; b: unknown }>(
      "SELECT 42::int8 AS a, 9007199254740993::int8 AS b",
    );
    expect(row).toEqual({ a: 42, b: 9007199254740993n });
  });

  it("DB-8: a transaction that throws is rolled back", async () => {
    const canvas = await seedCanvas();
    const id = await uuid();
    await expect(
      db.transaction(async (tx) => {
        await tx.query(
          "INSERT INTO blocks (block_id, canvas_id, type, y_order) VALUES ($1, $2, 'text', 'r')",
          [id, canvas],
        );
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(await db.query("SELECT 1 FROM blocks WHERE block_id = $1", [id])).toEqual([]);
  });

  it("DB-8: a connection killed mid-transaction is destroyed, and the pool carries on", async (ctx) => {
    if (!t.directUrl) ctx.skip(); // PGlite has no connections to lose
    const pool = createPgDatabase(t.directUrl!, { max: 1 });
    try {
      const err = await pool
        .transaction(async (tx) => {
          const [me] = await tx.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
          await db.query("SELECT pg_terminate_backend($1)", [me!.pid]);
          await tx.query("SELECT 1");
        })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      // max: 1 — this only works if the dead client was not handed back.
      expect(await pool.query<{ ok: number }>("SELECT 1 AS ok")).toEqual([{ ok: 1 }]);
    } finally {
      await pool.close();
    }
  });
});
