import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi, type TestUser } from "../../tests/support/apiHarness";
import { TestWsClient } from "../../tests/support/wsClient";

/** RT-7 / API-3: one presence schema and one block rule, whichever transport carries it. */
let api: TestApi;
let wsBase: string;
const open: TestWsClient[] = [];

beforeAll(async () => {
  api = await startTestApi({ RATE_LIMITS: JSON.stringify({ H3: { points: 1000, duration: 1 } }) });
  wsBase = api.url.replace(/^http/, "ws");
});
afterAll(async () => {
  for (const c of open) c.close();
  await api?.stop();
});

async function connect(user: TestUser, canvasId: string): Promise<TestWsClient> {
  const client = await TestWsClient.open(`${wsBase}/ws/canvas/${canvasId}?token=${user.token}`);
  open.push(client);
  return client;
}

async function createBlock(user: TestUser, canvasId: string): Promise<string> {
  const blockId = randomUUID();
  const res = await user.fetch(`/api/v1/canvas/${canvasId}/mutate`, {
    method: "POST",
    json: { ops: [{ client_op_id: randomUUID(), action: "create", block_id: blockId, type: "text" }] },
  });
  expect(res.status).toBe(200);
  return blockId;
}

/** Sends one presence over the socket; resolves with the answer frame. */
async function socketPresence(client: TestWsClient, input: unknown) {
  const id = client.mutation("sync.presence", input);
  await client.until(() => client.frames.some((f) => f.id === id));
  return client.frames.find((f) => f.id === id)!;
}

const restPresence = (user: TestUser, canvasId: string, json: unknown) =>
  user.fetch(`/api/v1/canvas/${canvasId}/presence`, { method: "POST", json });

type PresenceEvent = { type: string; user_id?: string; cursor?: unknown; block_id?: string | null };

/** A subscribed peer recording what reaches it. */
async function peer(user: TestUser, canvasId: string) {
  const client = await connect(user, canvasId);
  const sub = client.subscribe();
  await client.until(() => client.frames.some((f) => f.id === sub && f.result?.type === "started"));
  return {
    presence: () => (client.dataOf(sub) as PresenceEvent[]).filter((e) => e.type === "presence"),
    until: (p: () => boolean) => client.until(p),
  };
}

describe("one presence schema (RT-7, API-3)", () => {
  it("RT-7: sync.presence uses H3's schema: a cursor H3 refuses (x: 1e308) is refused on the socket and never relayed", async () => {
    const [owner, watcher] = [await api.user("Owner"), await api.user("Watcher")];
    const canvas = await api.canvas(owner);
    await api.member(canvas, watcher, "reader");
    const w = await peer(watcher, canvas);
    const a = await connect(owner, canvas);
    for (const input of [
      { cursor: { x: 1e308, y: 0 } },
      { cursor: { x: 0, y: -2e9 } },
      { cursor: { x: "1", y: 2 } },
      { typing: "yes" },
      { block_id: "nope" },
      { color: "red" },
    ]) {
      const rest = await restPresence(owner, canvas, input);
      expect(rest.status, JSON.stringify(input)).toBe(400);
      const frame = await socketPresence(a, input);
      expect(frame.error?.data?.code, JSON.stringify(input)).toBe("BAD_REQUEST");
    }
    // The bounds themselves are fine on both, and the last one is what reaches the peer.
    expect((await restPresence(owner, canvas, { cursor: { x: -1e9, y: 1e9 } })).status).toBe(200);
    expect((await socketPresence(a, { cursor: { x: 1e9, y: -1e9 } })).result?.type).toBe("data");
    await w.until(() => w.presence().length >= 2);
    expect(w.presence().map((e) => e.cursor)).toEqual([
      { x: -1e9, y: 1e9 },
      { x: 1e9, y: -1e9 },
    ]);
  });

  it("RT-7: a block_id that is not a live block of the canvas is refused on the socket and on H3, changing and relaying nothing", async () => {
    const [owner, watcher] = [await api.user("Owner"), await api.user("Watcher")];
    const canvas = await api.canvas(owner);
    const elsewhere = await api.canvas(owner);
    await api.member(canvas, watcher, "reader");
    const mine = await createBlock(owner, canvas);
    const foreign = await createBlock(owner, elsewhere);
    const gone = await createBlock(owner, canvas);
    const del = await owner.fetch(`/api/v1/canvas/${canvas}/mutate`, {
      method: "POST",
      json: { ops: [{ client_op_id: randomUUID(), action: "delete", block_id: gone, base_version: 1 }] },
    });
    expect(del.status).toBe(200);
    const w = await peer(watcher, canvas);
    const a = await connect(owner, canvas);
    for (const blockId of [foreign, gone, randomUUID()]) {
      const rest = await restPresence(owner, canvas, { block_id: blockId, cursor: { x: 1, y: 1 } });
      expect(rest.status).toBe(400);
      expect(((await rest.json()) as { detail: string }).detail).toMatch(/not a block of this canvas/);
      const frame = await socketPresence(a, { block_id: blockId, cursor: { x: 1, y: 1 } });
      expect(frame.error?.data?.code).toBe("BAD_REQUEST");
      expect(frame.error?.message).toMatch(/not a block of this canvas/);
    }
    // Refused presence wrote nothing either (RT-7's last_active_at).
    const [row] = await api.app.deps.db.query<{ t: string | null }>(
      "SELECT last_active_at::text AS t FROM canvas_members WHERE canvas_id = $1 AND user_id = $2",
      [canvas, owner.userId],
    );
    expect(row?.t ?? null).toBeNull();
    // A live block of the canvas (or none) goes through; the peer sees only those.
    expect((await socketPresence(a, { block_id: mine, typing: true })).result?.type).toBe("data");
    expect((await restPresence(owner, canvas, { block_id: null })).status).toBe(200);
    await w.until(() => w.presence().length >= 2);
    expect(w.presence().map((e) => e.block_id)).toEqual([mine, null]);
  });
});
