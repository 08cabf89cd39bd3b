/**
 * MUT-9 / MUT-4 / MUT-10, client and server together: 2–3 real sync engines (src/lib/sync/)
 * make random chains of edits while offline, from the same snapshot, then come back in a random
 * order against the real API server (REST polling and the WebSocket). Whatever the interleaving:
 * - no applied op changes a field that another user changed after its author's snapshot (a
 *   concurrent change is never lost without a conflict), unless it leaves the value as it is;
 * - every conflict is about a field another user really changed (a chain never conflicts with
 *   itself);
 * - every typed character survives (MUT-5) and every client ends on the database's state.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BlockJson, Op } from "../../server/protocol/ops";
import { startTestApi, type TestApi, type TestUser } from "../support/apiHarness";
import { engineFor, GENEROUS_LIMITS, snapshotOf, until } from "../support/engines";

const FIELDS = ["type", "props", "parent_id", "position"] as const;
type Field = (typeof FIELDS)[number];

type Edit =
  | { kind: "text"; block: number; at: number }
  | { kind: "type"; block: number; value: "text" | "heading" | "quote" | "todo" }
  | { kind: "props"; block: number; value: { color: string } | { checked: boolean } }
  | { kind: "parent_id"; block: number; value: number | null }
  | { kind: "position"; block: number; after: number };

/** Blocks 0..1 are edited; 2..3 are parents and anchors that nobody re-parents (no cycles). */
const EDITED = [0, 1];
const ANCHORS = [2, 3];

const editArb: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({
    kind: fc.constant("text" as const),
    block: fc.constantFrom(...EDITED),
    at: fc.double({ min: 0, max: 1, noNaN: true }),
  }),
  fc.record({
    kind: fc.constant("type" as const),
    block: fc.constantFrom(...EDITED),
    value: fc.constantFrom("text" as const, "heading" as const, "quote" as const, "todo" as const),
  }),
  fc.record({
    kind: fc.constant("props" as const),
    block: fc.constantFrom(...EDITED),
    value: fc.oneof(
      fc.record({ color: fc.constantFrom("red", "blue") }),
      fc.record({ checked: fc.boolean() }),
    ),
  }),
  fc.record({
    kind: fc.constant("parent_id" as const),
    block: fc.constantFrom(...EDITED),
    value: fc.constantFrom(null, ...ANCHORS),
  }),
  fc.record({
    kind: fc.constant("position" as const),
    block: fc.constantFrom(...EDITED),
    after: fc.constantFrom(0, 1, 2, 3),
  }),
);

const scenarioArb: fc.Arbitrary<Scenario> = fc.integer({ min: 2, max: 3 }).chain((clients) =>
  fc.record({
    chains: fc.array(fc.array(editArb, { minLength: 1, maxLength: 4 }), {
      minLength: clients,
      maxLength: clients,
    }),
    order: fc.shuffledSubarray([...Array(clients).keys()], { minLength: clients, maxLength: clients }),
    /** Whether each client waits for the previous one to finish before coming back. */
    settleBetween: fc.array(fc.boolean(), { minLength: clients, maxLength: clients }),
  }),
);

interface LogRow {
  server_seq: number;
  user_id: string | null;
  block_id: string;
  status: "success" | "conflict" | "failed";
  action: string;
  payload: Op;
  block: BlockJson | null;
  fields: Field[] | null;
}

let api: TestApi;
let users: TestUser[];

beforeAll(async () => {
  api = await startTestApi({
    RATE_LIMITS: GENEROUS_LIMITS,
  });
  users = [await api.user("Alice"), await api.user("Bob"), await api.user("Carol")];
}, 120_000);

afterAll(async () => {
  await api?.stop();
});

const snapshot = (canvasId: string) => snapshotOf(users[0]!, canvasId);

/** The live blocks in document order, as compared across clients and the database. */
function shape(blocks: readonly BlockJson[]) {
  return [...blocks]
    .sort((a, b) => (a.y_order! < b.y_order! ? -1 : 1))
    .map((b) => ({ id: b.block_id, type: b.type, content: b.content, props: b.props, parent: b.parent_id }));
}

const order = (state: Map<string, BlockJson>) =>
  [...state.values()]
    .sort((a, b) => (a.y_order! < b.y_order! ? -1 : 1))
    .map((b) => b.block_id)
    .join(",");

const fieldValue = (state: Map<string, BlockJson>, id: string, f: Field): string =>
  f === "position"
    ? order(state)
    : JSON.stringify(f === "props" ? sortKeys(state.get(id)!.props) : state.get(id)![f]);

function sortKeys(o: Record<string, unknown>) {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
}

interface Scenario {
  chains: Edit[][];
  order: number[];
  settleBetween: boolean[];
}

async function runScenario(scenario: Scenario): Promise<void> {
  const owner = users[0]!;
  const canvasId = await api.canvas(owner, "chains");
  for (const u of users.slice(1)) await api.member(canvasId, u, "writer");
  const ids = [0, 1, 2, 3].map(() => crypto.randomUUID());
  const created = await owner.fetch(`/api/v1/canvas/${canvasId}/mutate`, {
    method: "POST",
    json: {
      ops: ids.map((block_id, i) => ({
        client_op_id: crypto.randomUUID(),
        action: "create",
        block_id,
        type: "text",
        content: ["Hello", "World", "Parent A", "Parent B"][i],
      })),
    },
  });
  expect(created.status).toBe(200);
  const s0 = await snapshot(canvasId);

  // Offline: every client edits from the same snapshot (engines not started yet: nothing is sent).
  const clients = scenario.chains.map((chain, i) => {
    const user = users[i]!;
    const engine = engineFor(api, user, canvasId, { ws: i === 0, initial: s0 });
    const markers: string[] = [];
    chain.forEach((edit, k) => {
      const id = ids[edit.block]!;
      if (edit.kind === "text") {
        const marker = `[${i}.${k}]`;
        const text = engine.getSnapshot().byId.get(id)!.content;
        const pos = Math.min(text.length, Math.floor(edit.at * (text.length + 1)));
        engine.editText(id, pos > 0 ? [pos, marker] : [marker]);
        engine.flush();
        markers.push(marker);
      } else if (edit.kind === "type") engine.update(id, { type: edit.value });
      else if (edit.kind === "props") engine.update(id, { props: edit.value });
      else if (edit.kind === "parent_id")
        engine.update(id, { parent_id: edit.value === null ? null : ids[edit.value]! });
      else if (edit.block !== edit.after) engine.move(id, { after: ids[edit.after]! });
    });
    return { user, engine, markers };
  });

  const idle = (c: (typeof clients)[number]) => c.engine.getSnapshot().pendingCount === 0;
  try {
    for (const [n, i] of scenario.order.entries()) {
      const c = clients[i]!;
      await c.engine.start();
      if (scenario.settleBetween[n]) await until(`client ${i} to send everything`, () => idle(c));
    }
    await until("every client to send everything", () => clients.every(idle));
    const head = (await snapshot(canvasId)).server_seq;
    await until("every client to reach the head", () =>
      clients.every((c) => c.engine.getSnapshot().serverSeq >= head),
    );

    const final = await snapshot(canvasId);
    for (const c of clients) expect(shape(c.engine.getSnapshot().blocks)).toEqual(shape(final.blocks));
    const text = final.blocks.map((b) => b.content).join("\n");
    for (const c of clients) for (const m of c.markers) expect(text).toContain(m);

    // Replay the round from the op log and judge every op against what others did before it.
    const rows = await api.app.deps.db.query<LogRow>(
      `SELECT server_seq::int AS server_seq, user_id, block_id, status, action, payload,
              result -> 'block' AS block,
              (SELECT array_agg(f ->> 'field') FROM jsonb_array_elements(result #> '{conflict,fields}') f) AS fields
         FROM block_operations WHERE canvas_id = $1 AND server_seq > $2 ORDER BY server_seq`,
      [canvasId, s0.server_seq],
    );
    const state = new Map(s0.blocks.map((b) => [b.block_id, b]));
    /** Per block and field: the users who changed it so far in this round. */
    const changedBy = new Map<string, Set<string>>();
    /** Per block: the users who moved it (a move keeps or changes the order; the key changes). */
    const movedBy = new Map<string, Set<string>>();
    const key = (id: string, f: Field) => `${id}/${f}`;
    const problems: string[] = [];
    for (const row of rows) {
      const user = row.user_id ?? "system";
      const sets = FIELDS.filter((f) => row.payload[f] !== undefined);
      if (row.status === "conflict") {
        for (const f of row.fields ?? []) {
          const by =
            f === "position" ? movedBy.get(row.block_id) : changedBy.get(key(row.block_id, f as Field));
          const others = [...(by ?? [])].filter((u) => u !== user);
          if (others.length === 0)
            problems.push(`seq ${row.server_seq}: ${f} conflicted with nobody else's change`);
        }
        continue;
      }
      if (row.status !== "success" || !row.block) continue;
      const before = new Map(state);
      state.set(row.block_id, row.block);
      if (row.payload.position !== undefined)
        movedBy.set(row.block_id, new Set([...(movedBy.get(row.block_id) ?? []), user]));
      for (const f of sets) {
        const others = [...(changedBy.get(key(row.block_id, f)) ?? [])].filter((u) => u !== user);
        const changed = fieldValue(before, row.block_id, f) !== fieldValue(state, row.block_id, f);
        if (others.length > 0 && changed)
          problems.push(`seq ${row.server_seq}: ${f} overwrote a change by another user without a conflict`);
        if (changed) {
          const set = changedBy.get(key(row.block_id, f)) ?? new Set<string>();
          set.add(user);
          changedBy.set(key(row.block_id, f), set);
        }
      }
    }
    // On failure, the scenario and the op log it produced (fast-check also prints the seed).
    if (problems.length > 0) console.log(JSON.stringify({ scenario, rows }, null, 1));
    expect(problems).toEqual([]);
  } finally {
    for (const c of clients) c.engine.stop();
  }
}

describe("offline chains against the real server (MUT-9)", () => {
  it("MUT-9: random offline chains of 2–3 clients never lose a concurrent change without a conflict and never conflict with themselves", async () => {
    await fc.assert(fc.asyncProperty(scenarioArb, runScenario), {
      numRuns: Number(process.env.PROPERTY_RUNS ?? 25),
      endOnFailure: true,
    });
  }, 240_000);

  it("MUT-9: the browser's case — Bob's offline [type '!', make it a heading] over Alice's quote conflicts on the type", async () => {
    await runScenario({
      chains: [
        [{ kind: "type", block: 0, value: "quote" }],
        [
          { kind: "text", block: 0, at: 1 },
          { kind: "type", block: 0, value: "heading" },
        ],
      ],
      order: [0, 1],
      settleBetween: [true, true],
    });
  }, 60_000);
});
