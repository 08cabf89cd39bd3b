/**
 * RT-9, client and server together: three real sync engines (one over the WebSocket, two polling
 * over REST) make random creates, text edits, field updates, moves, re-parents and deletes on one
 * canvas at the same time, against the real API server. Every event reaches them as a delta;
 * when everything is sent and delivered, each engine's blocks are byte-identical to the
 * database's (every field: content, props, order keys, versions, times, authors).
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SyncEngine } from "../../src/lib/sync";
import { startTestApi, type TestApi, type TestUser } from "../support/apiHarness";
import { canonicalBlocks, engineFor, GENEROUS_LIMITS, snapshotOf, until } from "../support/engines";

type Command =
  | { client: number; kind: "create"; pick: number; type: "text" | "todo" | "heading" }
  | { client: number; kind: "text"; pick: number; at: number; del: boolean }
  | { client: number; kind: "type"; pick: number; value: "text" | "quote" | "code" }
  | { client: number; kind: "props"; pick: number; value: number | null }
  | { client: number; kind: "move"; pick: number; to: number }
  | { client: number; kind: "parent"; pick: number; to: number | null }
  | { client: number; kind: "delete"; pick: number }
  | { client: number; kind: "wait"; ms: number };

const client = fc.integer({ min: 0, max: 2 });
const pick = fc.nat(1_000);
const commandArb: fc.Arbitrary<Command> = fc.oneof(
  {
    arbitrary: fc.record({
      client,
      kind: fc.constant("create" as const),
      pick,
      type: fc.constantFrom("text" as const, "todo" as const, "heading" as const),
    }),
    weight: 3,
  },
  {
    arbitrary: fc.record({
      client,
      kind: fc.constant("text" as const),
      pick,
      at: fc.double({ min: 0, max: 1, noNaN: true }),
      del: fc.boolean(),
    }),
    weight: 5,
  },
  {
    arbitrary: fc.record({
      client,
      kind: fc.constant("type" as const),
      pick,
      value: fc.constantFrom("text" as const, "quote" as const, "code" as const),
    }),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      client,
      kind: fc.constant("props" as const),
      pick,
      value: fc.option(fc.integer({ min: 0, max: 3 })),
    }),
    weight: 2,
  },
  { arbitrary: fc.record({ client, kind: fc.constant("move" as const), pick, to: pick }), weight: 2 },
  {
    arbitrary: fc.record({ client, kind: fc.constant("parent" as const), pick, to: fc.option(pick) }),
    weight: 1,
  },
  { arbitrary: fc.record({ client, kind: fc.constant("delete" as const), pick }), weight: 1 },
  {
    arbitrary: fc.record({ client, kind: fc.constant("wait" as const), ms: fc.integer({ min: 5, max: 60 }) }),
    weight: 2,
  },
);

let api: TestApi;
let users: TestUser[];

beforeAll(async () => {
  api = await startTestApi({ RATE_LIMITS: GENEROUS_LIMITS });
  users = [await api.user("Alice"), await api.user("Bob"), await api.user("Carol")];
}, 120_000);

afterAll(async () => {
  await api?.stop();
});

/** Runs one command on the client's current view (a pick among the blocks it shows). */
function run(engine: SyncEngine, c: Exclude<Command, { kind: "wait" }>, n: number): void {
  const blocks = engine.getSnapshot().blocks;
  const at = (i: number) => blocks[i % Math.max(1, blocks.length)];
  const target = at(c.pick);
  if (c.kind === "create") {
    engine.create({
      type: c.type,
      content: `new ${n}`,
      ...(target ? { position: { after: target.block_id } } : {}),
    });
    return;
  }
  if (!target) return;
  const id = target.block_id;
  if (c.kind === "text") {
    const text = target.content;
    const pos = Math.min(text.length, Math.floor(c.at * (text.length + 1)));
    if (c.del && pos < text.length) engine.editText(id, pos > 0 ? [pos, { d: 1 }] : [{ d: 1 }]);
    else engine.editText(id, pos > 0 ? [pos, `${n}`] : [`${n}`]);
  } else if (c.kind === "type") engine.update(id, { type: c.value });
  else if (c.kind === "props") engine.update(id, { props: { level: c.value } });
  else if (c.kind === "move") {
    const to = at(c.to);
    if (to && to.block_id !== id) engine.move(id, { after: to.block_id });
  } else if (c.kind === "parent") {
    const to = c.to === null ? null : at(c.to);
    if (to === null) engine.update(id, { parent_id: null });
    else if (to && to.block_id !== id) engine.update(id, { parent_id: to.block_id });
  } else engine.delete(id);
}

async function scenario(commands: Command[]): Promise<void> {
  const owner = users[0]!;
  const canvasId = await api.canvas(owner, "deltas");
  for (const u of users.slice(1)) await api.member(canvasId, u, "writer");
  const seed = await owner.fetch(`/api/v1/canvas/${canvasId}/mutate`, {
    method: "POST",
    json: {
      ops: ["one", "two", "three"].map((content) => ({
        client_op_id: crypto.randomUUID(),
        action: "create",
        block_id: crypto.randomUUID(),
        type: "text",
        content,
      })),
    },
  });
  expect(seed.status).toBe(200);
  const engines = users.map((u, i) => engineFor(api, u, canvasId, { ws: i === 0 }));
  try {
    for (const e of engines) await e.start();
    await until("every engine to load", () => engines.every((e) => e.getSnapshot().blocks.length === 3));
    for (const [n, c] of commands.entries()) {
      if (c.kind === "wait") await new Promise((r) => setTimeout(r, c.ms));
      else run(engines[c.client]!, c, n);
    }
    for (const e of engines) e.flush();
    await until("every engine to send everything", () =>
      engines.every((e) => e.getSnapshot().pendingCount === 0),
    );
    const head = (await snapshotOf(owner, canvasId)).server_seq;
    await until("every engine to reach the head", () =>
      engines.every((e) => e.getSnapshot().serverSeq >= head),
    );
    const db = await snapshotOf(owner, canvasId);
    expect(db.server_seq).toBe(head);
    const expected = canonicalBlocks(db.blocks);
    for (const e of engines) expect(canonicalBlocks(e.getSnapshot().blocks)).toEqual(expected);
  } finally {
    for (const e of engines) e.stop();
  }
}

describe("delta events from several clients (RT-9)", () => {
  it("RT-9: random interleavings of creates, text edits, field updates, moves and deletes from three clients, applied as deltas, end byte-identical to the database", async () => {
    await fc.assert(fc.asyncProperty(fc.array(commandArb, { minLength: 10, maxLength: 40 }), scenario), {
      numRuns: Number(process.env.PROPERTY_RUNS ?? 15),
      endOnFailure: true,
    });
  }, 300_000);
});
