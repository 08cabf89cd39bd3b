import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import { seedCanvas, seedUser } from "../../tests/support/fixtures";
import { createTestDatabase, type TestDatabase } from "../../tests/support/testDb";

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => t?.drop());

type Row = Record<string, unknown>;

/** One canvas with `n` blocks at version 1 (created through the per-op path). */
async function setup(user: string, n: number) {
  const canvas = await seedCanvas(t.db, user);
  const ids = Array.from({ length: n }, () => randomUUID());
  const ops = ids.map((id, i) => ({
    client_op_id: randomUUID(),
    action: "create",
    block_id: id,
    type: "text",
    content: `b${i}`,
    props: { k: i },
  }));
  await t.db.transaction((tx) =>
    tx.query("SELECT rpc_mutate_batch($1, $2::jsonb, false)", [
      canvas,
      JSON.stringify([{ user_id: user, ops }]),
    ]),
  );
  return { canvas, ids };
}

/** The group of plain, non-stale updates the set-based path takes (content, props, type, text). */
function group(user: string, ids: string[]) {
  const op = (i: number, fields: Record<string, unknown>) => ({
    client_op_id: randomUUID(),
    action: "update",
    block_id: ids[i],
    base_version: 1,
    ...fields,
  });
  return [
    {
      user_id: user,
      ip: "10.0.0.1",
      user_agent: "t",
      rate: null,
      ops: [op(0, { content: "new" }), op(1, { props: { k: null, z: 2 } })],
    },
    { user_id: user, ip: "10.0.0.2", user_agent: "u", rate: null, ops: [op(2, { type: "heading" })] },
    {
      user_id: user,
      ip: null,
      user_agent: null,
      rate: null,
      ops: [
        op(3, {
          text_op: [2, "!"],
          text_rebase: { version: 1, text_op: [2, "!"], content: "b3!", mine: "b3!" },
        }),
      ],
    },
  ];
}

/** What must be equal between the two paths, with ids, sequence numbers and times left out. */
async function outcome(canvas: string, ids: string[], out: { results: Row[][]; events: Row[] }) {
  const strip = (r: Row) => {
    const { server_seq, prev_seq, client_op_id, block_id, block, updated_at, ...rest } = r;
    const b = block as Row | null;
    return { ...rest, block: b && { content: b.content, props: b.props, type: b.type, version: b.version } };
  };
  const blocks = await t.db.query<Row>(
    "SELECT content, props, type, version, field_versions FROM blocks WHERE block_id = ANY($1::uuid[]) ORDER BY array_position($1::uuid[], block_id)",
    [ids],
  );
  const log = await t.db.query<Row>(
    `SELECT action, status, base_version, version, payload - 'client_op_id' - 'block_id' AS payload, text_op, content_set, error
       FROM block_operations WHERE canvas_id = $1 AND base_version IS NOT NULL ORDER BY server_seq`,
    [canvas],
  );
  const audit = await t.db.query<Row>(
    "SELECT action, status, ip, user_agent, affected_rows FROM system_audit WHERE canvas_id = $1 AND action = 'op.update' ORDER BY audit_id",
    [canvas],
  );
  const [head] = await t.db.query<{ ok: boolean }>(
    "SELECT c.last_seq = (SELECT max(server_seq) FROM block_operations o WHERE o.canvas_id = c.canvas_id AND o.status = 'success') AS ok FROM canvas c WHERE canvas_id = $1",
    [canvas],
  );
  const events = out.events;
  const chained = events.every((e, i) => i === 0 || e.prev_seq === events[i - 1]!.server_seq);
  return {
    results: out.results.map((r) => r.map(strip)),
    events: events.map(strip),
    blocks,
    log,
    audit,
    head: head!.ok,
    chained,
  };
}

it("MUT-2: the set-based group path writes exactly what the per-op path writes", async () => {
  const user = await seedUser(t.db);
  const a = await setup(user, 4);
  const b = await setup(user, 4);
  const run = (canvas: string, ids: string[], fast: boolean) =>
    t.db.transaction(async (tx) => {
      await tx.query("SET LOCAL track_functions = 'all'");
      const [row] = await tx.query<{ out: { results: Row[][]; events: Row[] } }>(
        "SELECT rpc_mutate_batch($1, $2::jsonb, $3) AS out",
        [canvas, JSON.stringify(group(user, ids)), fast],
      );
      // Which path ran: the set-based one makes no per-op rpc_upsert_block_atomic call.
      const [calls] = await tx.query<{ n: string | number }>(
        "SELECT coalesce(sum(calls), 0) AS n FROM pg_stat_xact_user_functions WHERE funcname = 'rpc_upsert_block_atomic'",
      );
      return {
        out: typeof row!.out === "string" ? JSON.parse(row!.out) : row!.out,
        perOpCalls: Number(calls!.n),
      };
    });
  const fast = await run(a.canvas, a.ids, true);
  const slow = await run(b.canvas, b.ids, false);
  expect(fast.perOpCalls).toBe(0);
  expect(slow.perOpCalls).toBe(4);
  const fa = await outcome(a.canvas, a.ids, fast.out);
  const sa = await outcome(b.canvas, b.ids, slow.out);
  expect(fa.results.flat().map((r) => (r as Row).status)).toEqual([
    "success",
    "success",
    "success",
    "success",
  ]);
  expect(fa).toEqual(sa);
  expect(fa.head).toBe(true);
  expect(fa.chained).toBe(true);
});
