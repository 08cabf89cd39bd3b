import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { newId, seedCanvas, seedUser } from "../../tests/support/fixtures";
import { createTestDatabase, type TestDatabase } from "../../tests/support/testDb";
import { createPgDatabase } from "../db/pgDatabase";
import type { Database } from "../db/sql";
import { MemoryBus } from "../ports/memoryBus";
import { type CanvasBusMessage, canvasChannel } from "../protocol/channels";
import type { OpEvent } from "../protocol/ops";
import { CanvasSync } from "./canvasSync";

let t: TestDatabase;
let db: Database;
let bus: MemoryBus;
let sync: CanvasSync;
let user: string;
let canvas: string;

const rate = { points: 100_000, duration: 60 };

beforeAll(async () => {
  t = await createTestDatabase();
  db = t.db;
  bus = new MemoryBus();
  sync = new CanvasSync({ db, bus, rpcRate: rate });
  user = await seedUser(db);
});

afterAll(async () => {
  await sync?.close();
  await bus?.close();
  await t?.drop();
});

beforeEach(async () => {
  canvas = await seedCanvas(db, user);
});

const create = (blockId = newId(), extra: Record<string, unknown> = {}) => ({
  client_op_id: newId(),
  action: "create",
  block_id: blockId,
  type: "text",
  content: "",
  ...extra,
});

async function mutate(ops: unknown[], userId = user, canvasId = canvas, s = sync) {
  return s.mutate({ canvasId, userId, ops, ip: "127.0.0.1", userAgent: "vitest" });
}

async function block(blockId: string) {
  const [row] = await db.query<{
    content: string;
    version: number;
    y_order: string | null;
    deleted_at: string | null;
    props: unknown;
  }>("SELECT content, version, y_order, deleted_at, props FROM blocks WHERE block_id = $1", [blockId]);
  return row;
}

async function liveOrder(canvasId = canvas) {
  const rows = await db.query<{ block_id: string; y_order: string }>(
    'SELECT block_id, y_order FROM blocks WHERE canvas_id = $1 AND deleted_at IS NULL ORDER BY y_order COLLATE "C"',
    [canvasId],
  );
  return rows;
}

describe("canvasSync (MUT)", () => {
  it("MUT-1: acknowledges after commit and publishes only committed ops, in server_seq order", async () => {
    const seen: OpEvent[] = [];
    const checks: Promise<void>[] = [];
    const unsubscribe = await bus.subscribe(canvasChannel(canvas), (message) => {
      const parsed = JSON.parse(message) as CanvasBusMessage;
      for (const event of parsed.events) {
        seen.push(event);
        // Anything published must already be visible to another session.
        checks.push(
          db
            .query<{ n: number }>("SELECT count(*)::int AS n FROM block_operations WHERE server_seq = $1", [
              event.server_seq,
            ])
            .then(([r]) => expect(r!.n).toBe(1)),
        );
      }
    });
    const ids = [newId(), newId(), newId()];
    const { results } = await mutate(ids.map((id) => create(id)));
    expect(results.map((r) => r.status)).toEqual(["success", "success", "success"]);
    const [committed] = await db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM blocks WHERE canvas_id = $1",
      [canvas],
    );
    expect(committed!.n).toBe(3);
    await new Promise((r) => setTimeout(r, 20));
    await Promise.all(checks);
    await unsubscribe();
    expect(seen.map((e) => e.block_id)).toEqual(ids);
    expect(seen.map((e) => e.server_seq)).toEqual(results.map((r) => r.server_seq));
    expect(seen[0]!.prev_seq).toBeNull();
    expect(seen[1]!.prev_seq).toBe(seen[0]!.server_seq);
    expect(seen[2]!.prev_seq).toBe(seen[1]!.server_seq);
  });

  it("MUT-2: an invalid op gets a failed result with a reason, changes nothing, and its neighbours still apply", async () => {
    const good = newId();
    const { results } = await mutate([
      { client_op_id: newId(), action: "update", block_id: newId(), content: "no base_version" },
      "not even an object",
      create(good),
    ]);
    expect(results[0]).toMatchObject({ status: "failed", error: { code: "invalid_op" } });
    expect(results[0]!.error!.message).toContain("base_version");
    expect(results[1]).toMatchObject({ status: "failed", error: { code: "invalid_op" } });
    expect(results[2]).toMatchObject({ status: "success", version: 1 });
    const [n] = await db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM block_operations WHERE canvas_id = $1",
      [canvas],
    );
    expect(n!.n).toBe(1);
  });

  it("MUT-2: an error inside the op rolls back its own work and logs it as failed with the error", async () => {
    const id = newId();
    await mutate([create(id, { content: "before" })]);
    // Failure injection (a test-only trigger): the block write succeeds, then the op-log insert
    // raises — the function must undo the block write and keep only a `failed` log row.
    await db.query(`CREATE OR REPLACE FUNCTION test_fail_oplog() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.payload ->> 'content' = 'boom' AND NEW.status = 'success' THEN RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; END $$`);
    await db.query(
      "CREATE TRIGGER test_fail_oplog BEFORE INSERT ON block_operations FOR EACH ROW EXECUTE FUNCTION test_fail_oplog()",
    );
    try {
      const { results } = await mutate([
        { client_op_id: newId(), action: "update", block_id: id, base_version: 1, content: "boom" },
      ]);
      expect(results[0]).toMatchObject({
        status: "failed",
        error: { code: "internal", message: "injected failure" },
      });
    } finally {
      await db.query("DROP TRIGGER test_fail_oplog ON block_operations");
    }
    expect(await block(id)).toMatchObject({ content: "before", version: 1 });
    const log = await db.query<{ status: string; error: { message: string } | null }>(
      "SELECT status, error FROM block_operations WHERE block_id = $1 ORDER BY server_seq",
      [id],
    );
    expect(log.map((r) => r.status)).toEqual(["success", "failed"]);
    expect(log[1]!.error!.message).toBe("injected failure");
  });

  it("MUT-2: a crash between two statements of a transaction leaves no half-applied op", async () => {
    const id = newId();
    const op = create(id, { content: "half" });
    await expect(
      db.transaction(async (tx) => {
        await tx.query("SELECT rpc_upsert_block_atomic($1, $2, $3::jsonb, '{}'::jsonb)", [
          canvas,
          user,
          JSON.stringify(op),
        ]);
        throw new Error("process died before COMMIT");
      }),
    ).rejects.toThrow("process died");
    expect(await block(id)).toBeUndefined();
    const [n] = await db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM block_operations WHERE block_id = $1",
      [id],
    );
    expect(n!.n).toBe(0);
    // The same op sent again applies once, normally.
    const { results } = await mutate([op]);
    expect(results[0]).toMatchObject({ status: "success", version: 1 });
  });

  it("MUT-2: a database session killed between two statements leaves no half-applied op", async () => {
    if (!t.directUrl) {
      console.info(
        "MUT-2 session-kill variant needs server PostgreSQL (DATABASE_URL); PGlite has one in-process session",
      );
      return;
    }
    const id = newId();
    const op = create(id, { content: "half" });
    const admin = createPgDatabase(t.directUrl, { max: 1 });
    try {
      await expect(
        db.transaction(async (tx) => {
          await tx.query("SELECT rpc_upsert_block_atomic($1, $2, $3::jsonb, '{}'::jsonb)", [
            canvas,
            user,
            JSON.stringify(op),
          ]);
          const [me] = await tx.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
          // A real crash of the session that holds the open transaction.
          await admin.query("SELECT pg_terminate_backend($1)", [me!.pid]);
          await tx.query("SELECT 1");
        }),
      ).rejects.toThrow();
    } finally {
      await admin.close();
    }
    expect(await block(id)).toBeUndefined();
    const [n] = await db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM block_operations WHERE block_id = $1",
      [id],
    );
    expect(n!.n).toBe(0);
  });

  it("DB-4: the op log keeps applied, conflicting and failed ops with payloads, and outlives the block", async () => {
    const id = newId();
    await mutate([create(id, { content: "a" })]);
    await mutate([{ client_op_id: newId(), action: "update", block_id: id, base_version: 1, content: "b" }]);
    await mutate([{ client_op_id: newId(), action: "update", block_id: id, base_version: 1, content: "c" }]);
    await mutate([
      { client_op_id: newId(), action: "update", block_id: id, base_version: 2, parent_id: newId() },
    ]);
    await mutate([{ client_op_id: newId(), action: "delete", block_id: id, base_version: 2 }]);
    // Even purging the deleted block's row (retention) takes none of its history with it.
    await db.query("DELETE FROM blocks WHERE block_id = $1", [id]);
    const log = await db.query<{ status: string; action: string; payload: { client_op_id: string } }>(
      "SELECT status, action, payload FROM block_operations WHERE block_id = $1 ORDER BY server_seq",
      [id],
    );
    expect(log.map((r) => `${r.action}:${r.status}`)).toEqual([
      "create:success",
      "update:success",
      "update:conflict",
      "update:failed",
      "delete:success",
    ]);
    for (const row of log) expect(row.payload.client_op_id).toBeTypeOf("string");
  });

  it("MUT-2: every op writes an audit row with ip, user agent, latency and affected rows", async () => {
    const id = newId();
    const { results } = await mutate([create(id)]);
    const rows = await db.query<{
      ip: string;
      user_agent: string;
      latency_ms: number;
      affected_rows: number;
      status: string;
    }>("SELECT ip, user_agent, latency_ms, affected_rows, status FROM system_audit WHERE target_id = $1", [
      id,
    ]);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      ip: "127.0.0.1",
      user_agent: "vitest",
      affected_rows: 1,
      status: "success",
    });
    expect(rows[0]!.latency_ms).toBeGreaterThanOrEqual(0);
    expect(results[0]!.server_seq).toBeTypeOf("number");
  });

  it("MUT-3: a replayed client_op_id returns the first result and applies nothing", async () => {
    const id = newId();
    const op = create(id, { content: "once" });
    const first = (await mutate([op])).results[0]!;
    const again = (await mutate([op])).results[0]!;
    expect(again).toMatchObject({
      status: "success",
      server_seq: first.server_seq,
      version: first.version,
      replayed: true,
    });
    const update = {
      client_op_id: newId(),
      action: "update",
      block_id: id,
      base_version: 1,
      text_op: [4, "!"],
    };
    const u1 = (await mutate([update])).results[0]!;
    const u2 = (await mutate([update])).results[0]!;
    expect(u2).toMatchObject({ status: "success", server_seq: u1.server_seq, version: 2, replayed: true });
    expect(await block(id)).toMatchObject({ content: "once!", version: 2 });
  });

  it("MUT-3: the same key with a different payload fails with idempotency_mismatch", async () => {
    const id = newId();
    const op = create(id, { content: "a" });
    await mutate([op]);
    const { results } = await mutate([{ ...op, content: "b" }]);
    expect(results[0]).toMatchObject({ status: "failed", error: { code: "idempotency_mismatch" } });
    expect(await block(id)).toMatchObject({ content: "a", version: 1 });
  });

  it("MUT-4: a stale update of a changed field conflicts with base, theirs and mine; other fields apply", async () => {
    const id = newId();
    await mutate([create(id, { content: "base", props: { color: "red" } })]);
    await mutate([
      { client_op_id: newId(), action: "update", block_id: id, base_version: 1, content: "theirs" },
    ]);
    const stale = (
      await mutate([
        { client_op_id: newId(), action: "update", block_id: id, base_version: 1, content: "mine" },
      ])
    ).results[0]!;
    expect(stale.status).toBe("conflict");
    expect(stale.conflict).toEqual({
      reason: "stale_fields",
      fields: [{ field: "content", base: "base", theirs: "theirs", mine: "mine" }],
    });
    expect(stale.block).toMatchObject({ content: "theirs", version: 2 });
    const other = (
      await mutate([
        { client_op_id: newId(), action: "update", block_id: id, base_version: 1, props: { color: "blue" } },
      ])
    ).results[0]!;
    expect(other).toMatchObject({ status: "success", version: 3 });
    expect(await block(id)).toMatchObject({ content: "theirs", props: { color: "blue" }, version: 3 });
  });

  it("MUT-4: a stale delete of an edited block conflicts instead of deleting unseen work", async () => {
    const id = newId();
    await mutate([create(id, { content: "x" })]);
    await mutate([
      { client_op_id: newId(), action: "update", block_id: id, base_version: 1, content: "edited" },
    ]);
    const del = (await mutate([{ client_op_id: newId(), action: "delete", block_id: id, base_version: 1 }]))
      .results[0]!;
    expect(del.status).toBe("conflict");
    expect((await block(id))!.deleted_at).toBeNull();
  });

  it("MUT-5: N writers inserting concurrently into one block all succeed and every insert survives", async () => {
    const id = newId();
    await mutate([create(id, { content: "||" })]);
    const writers = Array.from({ length: 24 }, (_, i) => `w${i};`);
    const responses = await Promise.all(
      writers.map((text, i) =>
        mutate([
          {
            client_op_id: newId(),
            action: "update",
            block_id: id,
            base_version: 1,
            text_op: i % 3 ? [i % 3, text] : [text],
          },
        ]),
      ),
    );
    for (const r of responses)
      expect(r.results[0], JSON.stringify(r.results[0]?.error)).toMatchObject({ status: "success" });
    const final = (await block(id))!;
    for (const text of writers) expect(final.content).toContain(text);
    expect(final.content.length).toBe(2 + writers.join("").length);
    expect(final.version).toBe(1 + writers.length);
    // The results carry the transformed op, which applied in order rebuilds the text.
    expect(responses.some((r) => JSON.stringify(r.results[0]!.text_op) !== JSON.stringify([]))).toBe(true);
  });

  it("MUT-6: updating a deleted block conflicts with reason deleted; creating an existing id fails with exists", async () => {
    const id = newId();
    await mutate([create(id)]);
    const del = (await mutate([{ client_op_id: newId(), action: "delete", block_id: id, base_version: 1 }]))
      .results[0]!;
    expect(del).toMatchObject({ status: "success", version: 2, block: null });
    const upd = (
      await mutate([{ client_op_id: newId(), action: "update", block_id: id, base_version: 2, content: "x" }])
    ).results[0]!;
    expect(upd).toMatchObject({ status: "conflict", conflict: { reason: "deleted" } });
    const dup = (await mutate([create(id)])).results[0]!;
    expect(dup).toMatchObject({ status: "failed", error: { code: "exists" } });
    expect((await liveOrder()).map((b) => b.block_id)).not.toContain(id);
  });

  it("MUT-7: past the per-user limit, ops fail rate_limited and nothing applies", async () => {
    const limited = new CanvasSync({ db, bus, rpcRate: { points: 2, duration: 60 } });
    const other = await seedUser(db, "Limited");
    await db.query("INSERT INTO canvas_members (canvas_id, user_id, role) VALUES ($1, $2, 'writer')", [
      canvas,
      other,
    ]);
    try {
      expect((await mutate([create()], other, canvas, limited)).rateLimited).toBe(false);
      expect((await mutate([create()], other, canvas, limited)).rateLimited).toBe(false);
      const id = newId();
      const third = await mutate([create(id)], other, canvas, limited);
      expect(third.rateLimited).toBe(true);
      expect(third.results[0]).toMatchObject({ status: "failed", error: { code: "rate_limited" } });
      expect(await block(id)).toBeUndefined();
      // Another user is not affected.
      const fresh = await seedUser(db, "Fresh");
      await db.query("INSERT INTO canvas_members (canvas_id, user_id, role) VALUES ($1, $2, 'writer')", [
        canvas,
        fresh,
      ]);
      expect((await mutate([create()], fresh, canvas, limited)).rateLimited).toBe(false);
    } finally {
      await limited.close();
    }
  });

  it("MUT-8: version increases by exactly one per applied op on a block", async () => {
    const id = newId();
    await mutate([create(id)]);
    let version = 1;
    for (let i = 0; i < 5; i++) {
      const r = (
        await mutate([
          { client_op_id: newId(), action: "update", block_id: id, base_version: version, props: { i } },
        ])
      ).results[0]!;
      expect(r.version).toBe(version + 1);
      version = r.version!;
    }
    const conflict = (
      await mutate([
        { client_op_id: newId(), action: "update", block_id: id, base_version: 1, props: { i: -1 } },
      ])
    ).results[0]!;
    expect(conflict.status).toBe("conflict");
    const versions = await db.query<{ version: number }>(
      "SELECT version FROM block_operations WHERE block_id = $1 AND status = 'success' ORDER BY server_seq",
      [id],
    );
    expect(versions.map((v) => v.version)).toEqual([1, 2, 3, 4, 5, 6]);
  });
});
