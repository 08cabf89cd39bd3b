/**
 * RT-9: op events are deltas on the wire — small whatever the block's size, the same live and
 * replayed (H4), and enough to rebuild the database's blocks exactly; the protocol version is
 * negotiated.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi, type TestUser } from "../../tests/support/apiHarness";
import { TestWsClient } from "../../tests/support/wsClient";
import { applyOpEvent } from "../domain/delta";
import type { BlockJson, OpEvent } from "../protocol/ops";

let api: TestApi;
let owner: TestUser;
let wsBase: string;
const open: TestWsClient[] = [];

beforeAll(async () => {
  api = await startTestApi({
    RATE_LIMITS: JSON.stringify({ H2: { points: 10_000, duration: 1 }, H4: { points: 100, duration: 1 } }),
  });
  owner = await api.user("Owner");
  wsBase = api.url.replace(/^http/, "ws");
});
afterAll(async () => {
  for (const c of open) c.close();
  await api?.stop();
});

interface Result {
  status: string;
  version: number;
  block: BlockJson;
}

async function mutate(canvasId: string, ops: Record<string, unknown>[]): Promise<Result[]> {
  const res = await owner.fetch(`/api/v1/canvas/${canvasId}/mutate`, { method: "POST", json: { ops } });
  expect(res.status).toBe(200);
  const { results } = (await res.json()) as { results: Result[] };
  for (const r of results) expect(r.status).toBe("success");
  return results;
}

const create = (content: string, extra: Record<string, unknown> = {}) => ({
  client_op_id: randomUUID(),
  action: "create",
  block_id: randomUUID(),
  type: "text",
  content,
  ...extra,
});
const update = (block: string, base: number, fields: Record<string, unknown>) => ({
  client_op_id: randomUUID(),
  action: "update",
  block_id: block,
  base_version: base,
  ...fields,
});

async function subscribe(canvasId: string): Promise<{ client: TestWsClient; id: number }> {
  const client = await TestWsClient.open(`${wsBase}/ws/canvas/${canvasId}?token=${owner.token}`);
  open.push(client);
  const id = client.subscribe();
  await client.until(() => client.frames.some((f) => f.id === id && f.result?.type === "started"));
  return { client, id };
}

/** Canonical JSON: equal strings mean byte-identical values. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}

describe("delta events (RT-9)", () => {
  it("RT-9: a one-character edit's event is ≤ 600 bytes and the same size in a 2- and a 20,000-character block", async () => {
    const canvas = await api.canvas(owner);
    const [small, big] = await mutate(canvas, [create("ab"), create("x".repeat(20_000))]);
    const { client, id } = await subscribe(canvas);
    const before = client.raw.length;
    await mutate(canvas, [update(small!.block.block_id, 1, { text_op: [1, "!"] })]);
    await mutate(canvas, [update(big!.block.block_id, 1, { text_op: [10_000, "!"] })]);
    await client.until(() => client.opsOf(id).length === 2);
    const frames = client.raw.slice(before).filter((f) => f.includes('"type":"op"'));
    expect(frames).toHaveLength(2);
    const [a, b] = frames.map((f) => Buffer.byteLength(f));
    expect(a).toBeLessThanOrEqual(600);
    expect(b).toBeLessThanOrEqual(600);
    // Equal but for the digits of the position and of server_seq.
    expect(Math.abs(a! - b!)).toBeLessThanOrEqual(6);
    expect(client.opsOf(id)[1]).toMatchObject({ text_op: [10_000, "!"], version: 2 });
    expect(frames[1]).not.toContain("xxxxxxxx");
  });

  it("RT-9: the live events and H4's replay are the same deltas, and applied to nothing they rebuild the database's blocks byte for byte", async () => {
    const canvas = await api.canvas(owner);
    const { client, id } = await subscribe(canvas);
    const [a, b, c] = await mutate(canvas, [
      create("alpha"),
      create("beta"),
      create("gamma", { type: "todo" }),
    ]);
    const A = a!.block.block_id;
    const B = b!.block.block_id;
    const C = c!.block.block_id;
    await mutate(canvas, [
      update(A, 1, { text_op: [5, " one"] }),
      update(B, 1, { type: "quote", props: { color: "red" } }),
      update(C, 1, { props: { checked: true }, parent_id: A }),
    ]);
    await mutate(canvas, [update(B, 2, { position: { after: C } }), update(A, 2, { content: "replaced" })]);
    // 100 inserts between the same two blocks use the gap up: neighbours are re-keyed (LEX-4).
    for (let round = 0; round < 2; round++) {
      await mutate(
        canvas,
        Array.from({ length: 50 }, (_, i) => create(`n${round}.${i}`, { position: { after: A, before: C } })),
      );
    }
    await mutate(canvas, [update(B, 3, { props: { color: null, size: 2 } })]);
    await mutate(canvas, [{ client_op_id: randomUUID(), action: "delete", block_id: A, base_version: 3 }]);

    const res = await owner.fetch(`/api/v1/canvas/${canvas}/snapshot?since_seq=0`);
    const replay = (await res.json()) as { mode: string; events: OpEvent[]; server_seq: number };
    expect(replay.mode).toBe("replay");
    await client.until(() => client.opsOf(id).length === replay.events.length);
    expect(client.opsOf(id)).toEqual(replay.events);
    expect(replay.events.some((e) => e.user_id === null && e.set?.y_order !== undefined)).toBe(true);
    expect(replay.events.every((e) => e.action === "create" || e.block === undefined)).toBe(true);

    const state = new Map<string, BlockJson>();
    for (const e of replay.events) {
      const out = applyOpEvent(state.get(e.block_id), e);
      if (!out.ok) throw new Error(`event ${e.server_seq} does not apply: ${out.reason}`);
      if (out.block) state.set(e.block_id, out.block);
      else state.delete(e.block_id);
    }
    const db = await owner.fetch(`/api/v1/canvas/${canvas}/snapshot`);
    const { blocks } = (await db.json()) as { blocks: BlockJson[] };
    const ordered = [...state.values()].sort((x, y) => (x.y_order! < y.y_order! ? -1 : 1));
    expect(ordered.map(canonical)).toEqual(blocks.map(canonical));
  });

  it("RT-9: the protocol is negotiated — potentia.v2 is selected, a client offering only potentia.v1 is refused with 426, no offer speaks v2; A1 announces it", async () => {
    const canvas = await api.canvas(owner);
    const v2 = await TestWsClient.open(`${wsBase}/ws/canvas/${canvas}`, {
      protocols: ["potentia.v2", `bearer.${owner.token}`],
    });
    open.push(v2);
    expect(v2.ws.protocol).toBe("potentia.v2");
    expect(
      await TestWsClient.refusal(`${wsBase}/ws/canvas/${canvas}`, {
        protocols: ["potentia.v1", `bearer.${owner.token}`],
      }),
    ).toBe(426);
    const plain = await TestWsClient.open(`${wsBase}/ws/canvas/${canvas}?token=${owner.token}`);
    open.push(plain);
    expect(plain.ws.protocol).toBe("");
    const a1 = (await (await owner.fetch(`/api/v1/canvas/${canvas}`)).json()) as {
      realtime: { protocol: string };
    };
    expect(a1.realtime.protocol).toBe("potentia.v2");
  });
});
