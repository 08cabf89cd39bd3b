import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId, seedCanvas, seedUser } from "../../tests/support/fixtures";
import { createTestDatabase, type TestDatabase } from "../../tests/support/testDb";
import { createPgDatabase } from "../db/pgDatabase";
import type { Database } from "../db/sql";
import { MemoryBus } from "../ports/memoryBus";
import { CanvasSync } from "./canvasSync";

let t: TestDatabase;
let db: Database;
let second: Database;
let bus: MemoryBus;
let syncA: CanvasSync;
let syncB: CanvasSync;
let user: string;

const rate = { points: 1_000_000, duration: 60 };

beforeAll(async () => {
  t = await createTestDatabase();
  db = t.db;
  // With server PostgreSQL, the second CanvasSync has its own pool: it stands for another API process.
  second = t.url ? createPgDatabase(t.url, { max: 4 }) : db;
  bus = new MemoryBus();
  syncA = new CanvasSync({ db, bus, rpcRate: rate });
  syncB = new CanvasSync({ db: second, bus, rpcRate: rate });
  user = await seedUser(db);
});

afterAll(async () => {
  await syncA?.close();
  await syncB?.close();
  if (second && second !== db) await second.close();
  await bus?.close();
  await t?.drop();
});

const create = (blockId = newId(), position?: { after?: string; before?: string }) => ({
  client_op_id: newId(),
  action: "create",
  block_id: blockId,
  type: "text",
  ...(position ? { position } : {}),
});

async function order(canvas: string) {
  return db.query<{ block_id: string; y_order: string }>(
    `SELECT block_id, y_order FROM blocks WHERE canvas_id = $1 AND deleted_at IS NULL ORDER BY y_order COLLATE "C"`,
    [canvas],
  );
}

function expectValidKeys(rows: { y_order: string }[]) {
  for (const r of rows) expect(r.y_order).toMatch(/^[0-9a-z]{1,10}$/);
  for (let i = 1; i < rows.length; i++) expect(rows[i - 1]!.y_order < rows[i]!.y_order).toBe(true);
}

describe("ordering (DB-3, LEX)", () => {
  it("DB-3: within a canvas, commit order equals server_seq order under concurrency", async () => {
    const canvas = await seedCanvas(db, user);
    const sizes = Array.from({ length: 120 }, (_, i) => 1 + (i % 3));
    let writing = true;
    const violations: string[] = [];
    // A reader keeps looking: whatever it sees must be a prefix of the final sequence.
    const reader = (async () => {
      while (writing) {
        const rows = await second.query<{ server_seq: string }>(
          "SELECT server_seq FROM block_operations WHERE canvas_id = $1 AND status = 'success' ORDER BY server_seq",
          [canvas],
        );
        const seen = rows.map((r) => Number(r.server_seq));
        const [last] = await second.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM block_operations WHERE canvas_id = $1 AND status = 'success' AND server_seq < $2",
          [canvas, seen.length > 0 ? seen[seen.length - 1]! : 0],
        );
        if (seen.length > 0 && last!.n !== seen.length - 1)
          violations.push(`saw ${seen.length} ops, later found a gap`);
        await new Promise((r) => setImmediate(r));
      }
    })();
    // Four writers standing for four API processes, with small groups so that many
    // transactions of the same canvas overlap.
    const writers = [db, second, db, second].map(
      (d) => new CanvasSync({ db: d, bus, rpcRate: rate, maxBatchOps: 3 }),
    );
    // Distinct users, so that nothing but the canvas itself orders their transactions.
    const users = await Promise.all(writers.map(() => seedUser(db)));
    const responses = await Promise.all(
      sizes.map((n, i) =>
        writers[i % writers.length]!.mutate({
          canvasId: canvas,
          userId: users[i % users.length]!,
          ops: Array.from({ length: n }, () => create()),
        }),
      ),
    );
    await Promise.all(writers.map((w) => w.close()));
    writing = false;
    await reader;
    for (const r of responses) for (const res of r.results) expect(res.status).toBe("success");
    expect(violations).toEqual([]);
    const log = await db.query<{ server_seq: string; prev_seq: string | null }>(
      "SELECT server_seq, prev_seq FROM block_operations WHERE canvas_id = $1 AND status = 'success' ORDER BY server_seq",
      [canvas],
    );
    expect(log).toHaveLength(sizes.reduce((a, b) => a + b, 0));
    // The prev_seq chain has no fork and no gap.
    expect(log[0]!.prev_seq).toBeNull();
    for (let i = 1; i < log.length; i++)
      expect(Number(log[i]!.prev_seq)).toBe(Number(log[i - 1]!.server_seq));
    // Each request's ops got consecutive-in-canvas seqs in request order.
    for (const r of responses) {
      const seqs = r.results.map((x) => x.server_seq!);
      expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    }
  });

  it("LEX-1: position after/before places the block strictly between its neighbours, appending by default", async () => {
    const canvas = await seedCanvas(db, user);
    const [a, b, c] = [newId(), newId(), newId()];
    await syncA.mutate({ canvasId: canvas, userId: user, ops: [create(a), create(c)] });
    await syncA.mutate({ canvasId: canvas, userId: user, ops: [create(b, { after: a })] });
    const d = newId();
    await syncA.mutate({ canvasId: canvas, userId: user, ops: [create(d, { before: a })] });
    const e = newId();
    await syncA.mutate({ canvasId: canvas, userId: user, ops: [create(e, { after: b, before: c })] });
    const rows = await order(canvas);
    expect(rows.map((r) => r.block_id)).toEqual([d, a, b, e, c]);
    expectValidKeys(rows);
    // Moving a block is an update with a position.
    const [row] = await db.query<{ version: number }>("SELECT version FROM blocks WHERE block_id = $1", [d]);
    const moved = await syncA.mutate({
      canvasId: canvas,
      userId: user,
      ops: [
        {
          client_op_id: newId(),
          action: "update",
          block_id: d,
          base_version: row!.version,
          position: { after: c },
        },
      ],
    });
    expect(moved.results[0]!.status).toBe("success");
    expect((await order(canvas)).map((r) => r.block_id)).toEqual([a, b, e, c, d]);
    // An inverted pair is refused, not guessed.
    const bad = await syncA.mutate({
      canvasId: canvas,
      userId: user,
      ops: [create(newId(), { after: c, before: a })],
    });
    expect(bad.results[0]).toMatchObject({ status: "failed", error: { code: "invalid_position" } });
  });

  it.each([
    ["at the end", "end"],
    ["at the start", "start"],
    ["always between the same two blocks", "middle"],
  ] as const)(
    "LEX-2: 1,000 inserts %s never store a key over 10 chars nor break the order",
    async (_name, where) => {
      const canvas = await seedCanvas(db, user);
      const first = newId();
      const last = newId();
      await syncA.mutate({ canvasId: canvas, userId: user, ops: [create(first), create(last)] });
      const expected: string[] = [];
      for (let chunk = 0; chunk < 20; chunk++) {
        const ops = Array.from({ length: 50 }, () => {
          const id = newId();
          if (where === "end") expected.push(id);
          else expected.unshift(id);
          if (where === "end") return create(id);
          if (where === "start") return create(id, { before: expected[1] ?? first });
          return create(id, { after: first, before: expected[1] ?? last });
        });
        const { results } = await syncA.mutate({ canvasId: canvas, userId: user, ops });
        for (const r of results) expect(r.status).toBe("success");
      }
      const rows = await order(canvas);
      expectValidKeys(rows);
      const ids = rows.map((r) => r.block_id);
      if (where === "end") expect(ids).toEqual([first, last, ...expected]);
      if (where === "start") expect(ids).toEqual([...expected, first, last]);
      if (where === "middle") expect(ids).toEqual([first, ...expected, last]);
    },
    120_000,
  );

  it("LEX-3: concurrent inserts into the same gap are resolved in the transaction, never as an error", async () => {
    const canvas = await seedCanvas(db, user);
    const [a, b] = [newId(), newId()];
    await syncA.mutate({ canvasId: canvas, userId: user, ops: [create(a), create(b)] });
    const inserted = Array.from({ length: 40 }, () => newId());
    const responses = await Promise.all(
      inserted.map((id, i) =>
        (i % 2 ? syncA : syncB).mutate({
          canvasId: canvas,
          userId: user,
          ops: [create(id, { after: a, before: b })],
        }),
      ),
    );
    for (const r of responses)
      expect(r.results[0], JSON.stringify(r.results[0]?.error)).toMatchObject({ status: "success" });
    const rows = await order(canvas);
    expectValidKeys(rows);
    expect(rows[0]!.block_id).toBe(a);
    expect(rows[rows.length - 1]!.block_id).toBe(b);
    expect(new Set(rows.map((r) => r.block_id))).toEqual(new Set([a, b, ...inserted]));
  });
});
