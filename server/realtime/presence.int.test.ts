import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi, type TestUser } from "../../tests/support/apiHarness";
import { TestWsClient } from "../../tests/support/wsClient";

/**
 * RT-7 / API-3: one presence schema and one block rule, whichever transport carries it.
 * RT-10: presence batched per receiver, join/leave never dropped, ops never behind presence, and
 * polling clients reading it through REST.
 */
let api: TestApi;
let wsBase: string;
const open: TestWsClient[] = [];

beforeAll(async () => {
  api = await startTestApi({
    RATE_LIMITS: JSON.stringify({
      H1: { points: 1000, duration: 1 },
      H2: { points: 1000, duration: 1 },
      H3: { points: 1000, duration: 1 },
    }),
  });
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

type Entry = { user_id: string; name: string; cursor: unknown; block_id: string | null; typing: boolean };
type PresenceEvent = { type: string; users?: Entry[]; user_id?: string };

/** A subscribed peer recording what reaches it. */
async function peer(user: TestUser, canvasId: string) {
  const client = await connect(user, canvasId);
  const sub = client.subscribe();
  await client.until(() => client.frames.some((f) => f.id === sub && f.result?.type === "started"));
  const events = () => client.dataOf(sub) as PresenceEvent[];
  return {
    client,
    events,
    /** Every user state relayed, in order (RT-10: frames hold batches). */
    presence: () => events().flatMap((e) => (e.type === "presence" ? (e.users ?? []) : [])),
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

describe("H3's body (API-3)", () => {
  it("API-3: H3 answers 400 to a top-level array, number, string or boolean body, and sync.presence refuses such input", async () => {
    const owner = await api.user("Owner");
    const canvas = await api.canvas(owner);
    const a = await connect(owner, canvas);
    for (const body of ["[]", "[1]", "5", '"x"', "true", "null"]) {
      const res = await owner.fetch(`/api/v1/canvas/${canvas}/presence`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      expect(res.status, body).toBe(400);
      expect(((await res.json()) as { code: string }).code, body).toBe("invalid_input");
    }
    for (const input of [[], [1], 5, "x", true]) {
      const frame = await socketPresence(a, input);
      expect(frame.error?.data?.code, JSON.stringify(input)).toBe("BAD_REQUEST");
    }
    // No input at all is the empty state, on both.
    expect((await socketPresence(a, undefined)).result?.type).toBe("data");
    expect((await restPresence(owner, canvas, {})).status).toBe(200);
  });
});

type Op = { server_seq: number; client_op_id: string };

describe("batched presence (RT-10)", () => {
  it("RT-10: during a storm of cursor moves from three users, each receiver gets batched frames (one entry per user, latest wins) and every op in the middle of it", async () => {
    const owner = await api.user("Owner");
    const movers = [await api.user("M1"), await api.user("M2"), await api.user("M3")];
    const watchers = [await api.user("W1"), await api.user("W2")];
    const canvas = await api.canvas(owner);
    for (const u of [...movers, ...watchers]) await api.member(canvas, u, "writer");
    const peers = await Promise.all(watchers.map((w) => peer(w, canvas)));
    const sockets = await Promise.all(movers.map((m) => connect(m, canvas)));
    const MOVES = 30;
    const ops: string[] = [];
    for (let x = 1; x <= MOVES; x++) {
      for (const s of sockets) s.mutation("sync.presence", { cursor: { x, y: 0 } });
      if (x % 10 === 0) {
        // An op in the middle of the storm.
        const id = randomUUID();
        ops.push(id);
        const res = await owner.fetch(`/api/v1/canvas/${canvas}/mutate`, {
          method: "POST",
          json: { ops: [{ client_op_id: id, action: "create", block_id: randomUUID(), type: "text" }] },
        });
        expect(res.status).toBe(200);
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    const last = (p: (typeof peers)[number], userId: string) =>
      p
        .presence()
        .filter((u) => u.user_id === userId)
        .at(-1)?.cursor;
    for (const p of peers) {
      await p.until(() => movers.every((m) => (last(p, m.userId) as { x: number } | undefined)?.x === MOVES));
      const frames = p.events().filter((e) => e.type === "presence");
      // Batched: far fewer frames than moves (90), each user at most once per frame.
      expect(frames.length).toBeLessThan(MOVES * movers.length);
      for (const f of frames) expect(new Set(f.users!.map((u) => u.user_id)).size).toBe(f.users!.length);
      // Every op arrived once, in order, while presence was flowing around it.
      const received = p.client.opsOf(1) as unknown as Op[];
      expect(received.map((o) => o.client_op_id)).toEqual(ops);
      const frameIndex = (pred: (d: unknown) => boolean) => p.client.dataOf(1).findIndex(pred);
      const firstOp = frameIndex((d) => typeof d === "object" && d !== null && "id" in d);
      const lastPresence = p.client
        .dataOf(1)
        .findLastIndex((d) => (d as { type?: string }).type === "presence");
      expect(firstOp).toBeGreaterThanOrEqual(0);
      expect(firstOp).toBeLessThan(lastPresence);
    }
  });

  it("RT-10: join and leave are never dropped, each leave after its join, and no state of a user follows their leave", async () => {
    const owner = await api.user("Owner");
    const canvas = await api.canvas(owner);
    const comers = await Promise.all(Array.from({ length: 6 }, (_, i) => api.user(`C${i}`)));
    for (const u of comers) await api.member(canvas, u, "reader");
    const w = await peer(owner, canvas);
    // Each comes, moves, and goes at once (inside the 200 ms the joins are gathered over).
    await Promise.all(
      comers.map(async (u, i) => {
        const c = await connect(u, canvas);
        await socketPresence(c, { cursor: { x: i, y: i } });
        c.close();
      }),
    );
    const events = () => w.events();
    const indexOf = (type: string, userId: string) =>
      events().findIndex((e) =>
        type === "join"
          ? e.type === "join" && e.users?.some((u) => u.user_id === userId)
          : e.type === type && e.user_id === userId,
      );
    await w.until(() => comers.every((u) => indexOf("leave", u.userId) >= 0));
    for (const u of comers) {
      const left = indexOf("leave", u.userId);
      const joined = indexOf("join", u.userId);
      // A join still being gathered when its user went is announced first, never dropped.
      expect(joined).toBeGreaterThanOrEqual(0);
      expect(joined).toBeLessThan(left);
      const stateAfter = events()
        .slice(left + 1)
        .some((e) => e.type === "presence" && e.users?.some((x) => x.user_id === u.userId));
      expect(stateAfter).toBe(false);
    }
    expect(await api.app.deps.presence.online(canvas)).toEqual([owner.userId]);
  });

  it("RT-10: polling clients get presence through REST: GET …/presence lists who is online with their latest cursor and typing", async () => {
    const [owner, live, rest, poller] = [
      await api.user("Owner"),
      await api.user("Live Lu"),
      await api.user("Rest Ray"),
      await api.user("Poller"),
    ];
    const canvas = await api.canvas(owner);
    for (const u of [live, rest, poller]) await api.member(canvas, u, "reader");
    const block = await createBlock(owner, canvas);
    const socket = await connect(live, canvas);
    for (let x = 1; x <= 5; x++) await socketPresence(socket, { cursor: { x, y: 2 * x }, block_id: block });
    expect((await restPresence(rest, canvas, { typing: true, block_id: block })).status).toBe(200);
    type Listed = { users: Entry[] };
    const list = async () => {
      const res = await poller.fetch(`/api/v1/canvas/${canvas}/presence`);
      expect(res.status).toBe(200);
      return ((await res.json()) as Listed).users;
    };
    expect(await list()).toEqual(
      [
        { user_id: live.userId, name: "Live Lu", cursor: { x: 5, y: 10 }, block_id: block, typing: false },
        { user_id: rest.userId, name: "Rest Ray", cursor: null, block_id: block, typing: true },
      ].sort((a, b) => a.user_id.localeCompare(b.user_id)),
    );
    // The socket user leaves: gone from the list with their cursor.
    socket.close();
    for (let i = 0; i < 100 && (await list()).some((u) => u.user_id === live.userId); i++)
      await new Promise((r) => setTimeout(r, 50));
    expect((await list()).map((u) => u.user_id)).toEqual([rest.userId]);
    // Readers of the canvas only (API-1).
    const stranger = await api.user("Stranger");
    expect((await stranger.fetch(`/api/v1/canvas/${canvas}/presence`)).status).toBe(404);
  });
});
