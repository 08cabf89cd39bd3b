import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi, type TestUser } from "../../tests/support/apiHarness";
import { applyOpEvent } from "../domain/delta";
import type { BlockJson, OpEvent } from "../protocol/ops";
import { canvasChannel, presenceChannel } from "../protocol/channels";
import { PresenceService } from "../services/presenceService";

// Generous per-route limits: these tests are about the routes, not the API-2 middleware.
const ROUTE_LIMITS = Object.fromEntries(
  ["H2", "H3", "H4", "H6", "A1", "A2", "A3", "DEFAULT"].map((id) => [id, { points: 10_000, duration: 1 }]),
);
const LIMITS_ENV = JSON.stringify(ROUTE_LIMITS);

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi({ RATE_LIMITS: LIMITS_ENV });
});
afterAll(async () => api?.stop());

// biome-ignore lint/suspicious/noExplicitAny: response JSON is inspected loosely in tests
type Json = Record<string, any>;

const create = (content: string, extra: Json = {}) => ({
  client_op_id: randomUUID(),
  action: "create",
  block_id: randomUUID(),
  type: "text",
  content,
  ...extra,
});

async function mutate(user: TestUser, canvasId: string, ops: unknown[]): Promise<Json[]> {
  const res = await user.fetch(`/api/v1/canvas/${canvasId}/mutate`, { method: "POST", json: { ops } });
  expect(res.status, await res.clone().text()).toBe(200);
  return ((await res.json()) as { results: Json[] }).results;
}

async function snapshot(user: TestUser, canvasId: string, since?: number): Promise<Json> {
  const q = since === undefined ? "" : `?since_seq=${since}`;
  const res = await user.fetch(`/api/v1/canvas/${canvasId}/snapshot${q}`);
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as Json;
}

/** Applies op events to a block list the way a client does, returning document order. */
/** A snapshot's blocks with replayed delta events applied (RT-9), in document order. */
function applyEvents(blocks: Json[], events: Json[]): Json[] {
  const byId = new Map(blocks.map((b) => [b.block_id as string, b]));
  for (const e of events) {
    const out = applyOpEvent(byId.get(e.block_id) as BlockJson | undefined, e as OpEvent);
    if (!out.ok) throw new Error(`event ${e.server_seq} does not apply: ${out.reason}`);
    if (out.block) byId.set(e.block_id, out.block);
    else byId.delete(e.block_id);
  }
  return [...byId.values()].sort((a, b) => (a.y_order < b.y_order ? -1 : a.y_order > b.y_order ? 1 : 0));
}

describe("H2 mutate over HTTP", () => {
  it("MUT-1: H2 answers per-op results; an acknowledged op is durable and visible", async () => {
    const owner = await api.user();
    const canvas = await api.canvas(owner);
    const op = create("hello");
    const results = await mutate(owner, canvas, [op]);
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({
      client_op_id: op.client_op_id,
      block_id: op.block_id,
      status: "success",
      version: 1,
      block: { block_id: op.block_id, content: "hello", type: "text" },
    });
    expect(typeof results[0]!.server_seq).toBe("number");
    const [row] = await api.app.deps.db.query<{ content: string }>(
      "SELECT content FROM blocks WHERE block_id = $1",
      [op.block_id],
    );
    expect(row?.content).toBe("hello");
  });

  it("MUT-1: invalid ops come back as per-op failed results with 200, the valid ones apply", async () => {
    const owner = await api.user();
    const canvas = await api.canvas(owner);
    const good = create("ok");
    const results = await mutate(owner, canvas, [
      { client_op_id: randomUUID(), action: "update", block_id: randomUUID() },
      good,
      { bogus: true },
    ]);
    expect(results.map((r) => r.status)).toEqual(["failed", "success", "failed"]);
    expect(results[0]!.error.code).toBe("invalid_op");
    expect(results[2]!.error.code).toBe("invalid_op");
  });

  it("API-3: H2 refuses an empty or oversized ops array and bad ids with 400, changing nothing", async () => {
    const owner = await api.user();
    const canvas = await api.canvas(owner);
    const tooMany = Array.from({ length: 51 }, (_, i) => create(`b${i}`));
    for (const body of [{ ops: [] }, { ops: tooMany }, {}, { ops: "x" }]) {
      const res = await owner.fetch(`/api/v1/canvas/${canvas}/mutate`, { method: "POST", json: body });
      expect(res.status).toBe(400);
      expect(res.headers.get("content-type")).toContain("application/problem+json");
    }
    const bad = await owner.fetch("/api/v1/canvas/not-a-uuid/mutate", {
      method: "POST",
      json: { ops: [create("x")] },
    });
    expect(bad.status).toBe(400);
    const [n] = await api.app.deps.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM blocks WHERE canvas_id = $1",
      [canvas],
    );
    expect(n?.n).toBe(0);
  });

  it("API-1: H2 is 404 for a non-member and 403 for a reader", async () => {
    const owner = await api.user();
    const reader = await api.user();
    const stranger = await api.user();
    const canvas = await api.canvas(owner);
    await api.member(canvas, reader, "reader");
    const post = (u: TestUser) =>
      u.fetch(`/api/v1/canvas/${canvas}/mutate`, { method: "POST", json: { ops: [create("x")] } });
    expect((await post(stranger)).status).toBe(404);
    const forbidden = await post(reader);
    expect(forbidden.status).toBe(403);
    expect(((await forbidden.json()) as Json).code).toBe("forbidden");
    expect(
      (await api.anonymous(`/api/v1/canvas/${canvas}/mutate`, { method: "POST", json: { ops: [] } })).status,
    ).toBe(401);
  });
});

describe("H2 rate limit (MUT-7)", () => {
  let limited: TestApi;
  beforeAll(async () => {
    limited = await startTestApi({
      RATE_LIMITS: JSON.stringify({ ...ROUTE_LIMITS, RPC: { points: 2, duration: 60 } }),
    });
  });
  afterAll(async () => limited?.stop());

  it("MUT-7: past RATE_LIMITS.RPC, H2 answers 429 rate_limited with Retry-After", async () => {
    const owner = await limited.user();
    const canvas = await limited.canvas(owner);
    const post = () =>
      owner.fetch(`/api/v1/canvas/${canvas}/mutate`, { method: "POST", json: { ops: [create("x")] } });
    expect((await post()).status).toBe(200);
    expect((await post()).status).toBe(200);
    const res = await post();
    expect(res.status).toBe(429);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
    const retryAfter = Number(res.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    const body = (await res.json()) as Json;
    expect(body).toMatchObject({ status: 429, code: "rate_limited" });
    // The rejected request applied nothing: still two blocks.
    const [n] = await limited.app.deps.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM blocks WHERE canvas_id = $1 AND deleted_at IS NULL",
      [canvas],
    );
    expect(n?.n).toBe(2);
  });
});

describe("H4 snapshot and replay", () => {
  it("H4: without since_seq, a snapshot of the live blocks in document order and the canvas's server_seq", async () => {
    const owner = await api.user();
    const canvas = await api.canvas(owner, "Snap");
    const empty = await snapshot(owner, canvas);
    expect(empty).toMatchObject({
      mode: "snapshot",
      blocks: [],
      server_seq: 0,
      canvas: { canvas_id: canvas, title: "Snap", role: "owner" },
    });
    const a = create("a");
    const b = create("b");
    const results = await mutate(owner, canvas, [
      a,
      b,
      create("first", { position: { before: a.block_id } }),
    ]);
    const snap = await snapshot(owner, canvas);
    expect(snap.mode).toBe("snapshot");
    expect(snap.blocks.map((x: Json) => x.content)).toEqual(["first", "a", "b"]);
    expect(snap.server_seq).toBe(Math.max(...results.map((r) => r.server_seq)));
  });

  it("RT-5: replay from a snapshot's server_seq equals the op log after it — no gap, no duplicate, deletes included", async () => {
    const owner = await api.user();
    const writer = await api.user();
    const canvas = await api.canvas(owner);
    await api.member(canvas, writer, "writer");
    const a = create("a");
    const b = create("b");
    await mutate(owner, canvas, [a, b]);
    const snap = await snapshot(owner, canvas);

    const c = create("c", { position: { after: a.block_id } });
    await mutate(writer, canvas, [c]);
    await mutate(owner, canvas, [
      { client_op_id: randomUUID(), action: "update", block_id: a.block_id, base_version: 1, content: "A" },
      { client_op_id: randomUUID(), action: "delete", block_id: b.block_id, base_version: 1 },
    ]);
    // A conflicting op is logged but is not an event.
    const conflict = await mutate(writer, canvas, [
      {
        client_op_id: randomUUID(),
        action: "update",
        block_id: a.block_id,
        base_version: 1,
        content: "mine",
      },
    ]);
    expect(conflict[0]!.status).toBe("conflict");

    const replay = await snapshot(owner, canvas, snap.server_seq);
    expect(replay.mode).toBe("replay");
    const log = await api.app.deps.db.query<Json>(
      `SELECT server_seq::float8 AS server_seq, prev_seq::float8 AS prev_seq, client_op_id, user_id, action, block_id,
              version
         FROM block_operations WHERE canvas_id = $1 AND status = 'success' AND server_seq > $2 ORDER BY server_seq`,
      [canvas, snap.server_seq],
    );
    const identity = ({ server_seq, prev_seq, client_op_id, user_id, action, block_id, version }: Json) => ({
      server_seq,
      prev_seq,
      client_op_id,
      user_id,
      action,
      block_id,
      version,
    });
    expect(replay.events.map(identity)).toEqual(log.map(identity));
    expect(replay.events.every((e: Json) => e.type === "op")).toBe(true);
    // Chained from the snapshot's server_seq with no hole, ending at the new server_seq.
    expect(replay.events[0].prev_seq).toBe(snap.server_seq);
    for (let i = 1; i < replay.events.length; i++) {
      expect(replay.events[i].prev_seq).toBe(replay.events[i - 1].server_seq);
    }
    expect(replay.server_seq).toBe(replay.events.at(-1).server_seq);
    expect(replay.events.some((e: Json) => e.action === "delete" && e.block_id === b.block_id)).toBe(true);
    // Snapshot + replay = a fresh snapshot.
    const fresh = await snapshot(owner, canvas);
    expect(fresh.server_seq).toBe(replay.server_seq);
    expect(applyEvents(snap.blocks, replay.events)).toEqual(fresh.blocks);
    expect(fresh.blocks.map((x: Json) => x.content)).toEqual(["A", "c"]);
    // Up to date: an empty replay.
    expect(await snapshot(owner, canvas, fresh.server_seq)).toEqual({
      mode: "replay",
      events: [],
      server_seq: fresh.server_seq,
    });
  });

  it("RT-5: snapshots taken during concurrent writes plus their replay equal the final state", async () => {
    const owner = await api.user();
    const writer = await api.user();
    const canvas = await api.canvas(owner);
    await api.member(canvas, writer, "writer");
    // Two writers commit one request after another while a reader keeps taking snapshots.
    let writing = 2;
    const writeLoop = async (user: TestUser, tag: string) => {
      for (let i = 0; i < 12; i++)
        await mutate(user, canvas, [create(`${tag}${i}-a`), create(`${tag}${i}-b`)]);
      writing -= 1;
    };
    const taken: Json[] = [];
    const readLoop = async () => {
      while (writing > 0) taken.push(await snapshot(owner, canvas));
    };
    await Promise.all([writeLoop(owner, "o"), writeLoop(writer, "w"), readLoop(), readLoop()]);
    expect(taken.length).toBeGreaterThan(2);
    const final = await snapshot(owner, canvas);
    expect(final.blocks).toHaveLength(48);
    for (const snap of taken) {
      const replay = await snapshot(owner, canvas, snap.server_seq);
      expect(replay.mode).toBe("replay");
      expect(replay.server_seq).toBe(final.server_seq);
      expect(applyEvents(snap.blocks, replay.events)).toEqual(final.blocks);
    }
  });

  it("RT-5: replayed events are exactly the live op events (text_op and deletes included)", async () => {
    const owner = await api.user();
    const canvas = await api.canvas(owner);
    const live: Json[] = [];
    const stop = await api.app.deps.bus.subscribe(canvasChannel(canvas), (m) =>
      live.push(...(JSON.parse(m) as { events: Json[] }).events),
    );
    try {
      const from = (await snapshot(owner, canvas)).server_seq;
      const a = create("hello");
      await mutate(owner, canvas, [a, create("x")]);
      const typed = await mutate(owner, canvas, [
        {
          client_op_id: randomUUID(),
          action: "update",
          block_id: a.block_id,
          base_version: 1,
          text_op: [5, " world"],
        },
      ]);
      expect(typed[0]).toMatchObject({ status: "success", text_op: [5, " world"] });
      await mutate(owner, canvas, [
        { client_op_id: randomUUID(), action: "delete", block_id: a.block_id, base_version: 2 },
      ]);
      const replay = await snapshot(owner, canvas, from);
      for (let i = 0; i < 100 && live.length < replay.events.length; i++)
        await new Promise((r) => setTimeout(r, 20));
      expect(replay.events).toHaveLength(4);
      expect(replay.events).toEqual(live);
      // RT-9: a delta — the transformed text op and the new version, not the block.
      expect(replay.events[2]).toMatchObject({ action: "update", text_op: [5, " world"], version: 2 });
      expect(replay.events[2].block).toBeUndefined();
      expect(replay.events[3]).toMatchObject({ action: "delete", block_id: a.block_id });
    } finally {
      await stop();
    }
  });

  it("H2: the request's IP and user agent reach the op's audit row", async () => {
    const owner = await api.user();
    const canvas = await api.canvas(owner);
    const op = create("audited");
    const res = await owner.fetch(`/api/v1/canvas/${canvas}/mutate`, {
      method: "POST",
      json: { ops: [op] },
      headers: { "user-agent": "potentia-sync-test/1.0" },
    });
    expect(res.status).toBe(200);
    const rows = await api.app.deps.db.query<{ ip: string | null; user_agent: string | null }>(
      "SELECT ip, user_agent FROM system_audit WHERE canvas_id = $1 AND target_id = $2",
      [canvas, op.block_id],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.user_agent).toBe("potentia-sync-test/1.0");
    expect(rows[0]!.ip).toMatch(/127\.0\.0\.1/);
  });

  it("RT-5: a since_seq older than the op log holds gets a snapshot, not a replay with a hole", async () => {
    const owner = await api.user();
    const canvas = await api.canvas(owner);
    const first = await mutate(owner, canvas, [create("1"), create("2")]);
    await mutate(owner, canvas, [create("3")]);
    // Prune the oldest op as the cleanup worker would once it leaves the replay window.
    await api.app.deps.db.query("DELETE FROM block_operations WHERE server_seq = $1", [first[1]!.server_seq]);
    const res = await snapshot(owner, canvas, first[0]!.server_seq);
    expect(res.mode).toBe("snapshot");
    expect(res.blocks.map((x: Json) => x.content)).toEqual(["1", "2", "3"]);
    // From a seq the log still covers, a replay.
    const ok = await snapshot(owner, canvas, first[1]!.server_seq);
    expect(ok.mode).toBe("replay");
    expect(ok.events.map((e: Json) => e.block.content)).toEqual(["3"]);
  });

  it("H4: more than 1000 ops behind gets a snapshot; since_seq ahead of the canvas or not a number is 400", async () => {
    const owner = await api.user();
    const canvas = await api.canvas(owner);
    let firstSeq = 0;
    for (let i = 0; i < 21; i++) {
      const rs = await mutate(
        owner,
        canvas,
        Array.from({ length: 50 }, (_, k) => create(`${i}-${k}`)),
      );
      if (i === 0) firstSeq = rs[0]!.server_seq;
    }
    const far = await snapshot(owner, canvas, 0);
    expect((await (await owner.fetch(`/api/v1/canvas/${canvas}/snapshot?since_seq=`)).json()).mode).toBe(
      "snapshot",
    );
    expect(far.mode).toBe("snapshot");
    expect(far.blocks).toHaveLength(1050);
    const near = await snapshot(owner, canvas, firstSeq + 100);
    expect(near.mode).toBe("replay");
    expect(near.events.length).toBeLessThanOrEqual(1000);
    expect(near.events[0].prev_seq).toBe(firstSeq + 100);
    for (const q of [`${far.server_seq + 1}`, "-1", "abc", "1.5"]) {
      const res = await owner.fetch(`/api/v1/canvas/${canvas}/snapshot?since_seq=${q}`);
      expect(res.status, q).toBe(400);
      expect(res.headers.get("content-type")).toContain("application/problem+json");
    }
  });

  it("API-1: H4 is 404 for a non-member, and readers may read it", async () => {
    const owner = await api.user();
    const reader = await api.user();
    const stranger = await api.user();
    const canvas = await api.canvas(owner);
    await api.member(canvas, reader, "reader");
    expect((await stranger.fetch(`/api/v1/canvas/${canvas}/snapshot`)).status).toBe(404);
    expect((await snapshot(reader, canvas)).canvas.role).toBe("reader");
  });
});

describe("A1 canvas with realtime mode", () => {
  it("OPS-4: CANARY_PERCENT=100 answers websocket with a ws_url from the Host header", async () => {
    const owner = await api.user();
    const canvas = await api.canvas(owner, "A1");
    await mutate(owner, canvas, [create("x")]);
    const res = await owner.fetch(`/api/v1/canvas/${canvas}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Json;
    const host = new URL(api.url).host;
    expect(body).toMatchObject({
      canvas: { canvas_id: canvas, title: "A1", role: "owner", owner_id: owner.userId },
      realtime: { mode: "websocket", ws_url: `ws://${host}/ws/canvas/${canvas}`, poll_interval_ms: 2000 },
    });
    expect(body.blocks.map((b: Json) => b.content)).toEqual(["x"]);
    expect(body.server_seq).toBe((await snapshot(owner, canvas)).server_seq);
    const stranger = await api.user();
    expect((await stranger.fetch(`/api/v1/canvas/${canvas}`)).status).toBe(404);
  });

  it("OPS-4: PUBLIC_WS_URL sets the ws_url browsers get, whatever Host the request came with", async () => {
    const pub = await startTestApi({ RATE_LIMITS: LIMITS_ENV, PUBLIC_WS_URL: "wss://rt.example.com/" });
    try {
      const owner = await pub.user();
      const canvas = await pub.canvas(owner);
      const body = (await (await owner.fetch(`/api/v1/canvas/${canvas}`)).json()) as Json;
      expect(body.realtime.ws_url).toBe(`wss://rt.example.com/ws/canvas/${canvas}`);
    } finally {
      await pub.stop();
    }
  });

  it("OPS-4: CANARY_PERCENT=0 answers polling", async () => {
    const polling = await startTestApi({ RATE_LIMITS: LIMITS_ENV, CANARY_PERCENT: "0" });
    try {
      const owner = await polling.user();
      const canvas = await polling.canvas(owner);
      const body = (await (await owner.fetch(`/api/v1/canvas/${canvas}`)).json()) as Json;
      expect(body.realtime).toMatchObject({ mode: "polling", poll_interval_ms: 2000 });
      expect(body.realtime.ws_url).toContain(`/ws/canvas/${canvas}`);
    } finally {
      await polling.stop();
    }
  });

  it("OPS-6: with Redis configured but unreachable, A1 answers polling", async () => {
    // Port 1 refuses connections: the bus reports itself unhealthy from the start.
    const down = await startTestApi({ RATE_LIMITS: LIMITS_ENV, REDIS_URL: "redis://127.0.0.1:1" });
    try {
      expect(down.app.deps.bus.isHealthy()).toBe(false);
      const owner = await down.user();
      const canvas = await down.canvas(owner);
      const res = await owner.fetch(`/api/v1/canvas/${canvas}`);
      expect(res.status).toBe(200);
      expect(((await res.json()) as Json).realtime.mode).toBe("polling");
    } finally {
      await down.stop();
    }
  });
});

describe("H3 presence and H6 leave", () => {
  async function listen(canvasId: string): Promise<{ messages: Json[]; stop: () => Promise<void> }> {
    const messages: Json[] = [];
    const stop = await api.app.deps.bus.subscribe(presenceChannel(canvasId), (m) =>
      messages.push(JSON.parse(m)),
    );
    return { messages, stop };
  }
  const waitFor = async (cond: () => boolean) => {
    for (let i = 0; i < 100 && !cond(); i++) await new Promise((r) => setTimeout(r, 20));
    expect(cond()).toBe(true);
  };
  const lastActive = async (canvasId: string, user: TestUser) => {
    const [row] = await api.app.deps.db.query<{ t: string | null }>(
      "SELECT last_active_at::text AS t FROM canvas_members WHERE canvas_id = $1 AND user_id = $2",
      [canvasId, user.userId],
    );
    return row?.t ?? null;
  };

  it("H3: presence is published on presence:<canvas> with the user's name; readers may send it", async () => {
    const owner = await api.user();
    const reader = await api.user("Rita Reader");
    const canvas = await api.canvas(owner);
    await api.member(canvas, reader, "reader");
    const sub = await listen(canvas);
    try {
      // block_id must name a live block of this canvas (RT-7).
      const blockId = randomUUID();
      const made = await owner.fetch(`/api/v1/canvas/${canvas}/mutate`, {
        method: "POST",
        json: { ops: [{ client_op_id: randomUUID(), action: "create", block_id: blockId, type: "text" }] },
      });
      expect(made.status).toBe(200);
      const res = await reader.fetch(`/api/v1/canvas/${canvas}/presence`, {
        method: "POST",
        json: { cursor: { x: 10, y: -2.5 }, block_id: blockId, typing: true },
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ ok: true });
      await waitFor(() => sub.messages.length === 1);
      // One message per call on the bus; each process batches them for its sockets (RT-10).
      expect(sub.messages[0]).toEqual({
        type: "update",
        user_id: reader.userId,
        name: "Rita Reader",
        cursor: { x: 10, y: -2.5 },
        typing: true,
        block_id: blockId,
      });
      const left = await reader.fetch(`/api/v1/canvas/${canvas}/leave`, { method: "POST", json: {} });
      expect(left.status).toBe(200);
      expect(await left.json()).toEqual({ ok: true });
      await waitFor(() => sub.messages.length === 2);
      expect(sub.messages[1]).toEqual({ type: "leave", user_id: reader.userId });
      // Leaving presence keeps the membership.
      expect((await reader.fetch(`/api/v1/canvas/${canvas}`)).status).toBe(200);
    } finally {
      await sub.stop();
    }
  });

  it("RT-7: last_active_at is written at most once per 30 s per user and canvas", async () => {
    const owner = await api.user();
    const canvas = await api.canvas(owner);
    expect(await lastActive(canvas, owner)).toBeNull();
    const send = () =>
      owner.fetch(`/api/v1/canvas/${canvas}/presence`, { method: "POST", json: { cursor: null } });
    expect((await send()).status).toBe(200);
    const first = await lastActive(canvas, owner);
    expect(first).not.toBeNull();
    for (let i = 0; i < 3; i++) expect((await send()).status).toBe(200);
    expect(await lastActive(canvas, owner)).toBe(first);
    // 31 s later, the next presence writes again: the database's clock moved back, and the
    // process's (which skips the query inside the window) on a service with a settable clock.
    let clock = Date.now();
    const { db, bus, presence } = api.app.deps;
    const service = new PresenceService({ db, bus, registry: presence, now: () => clock });
    await service.update({ canvasId: canvas, userId: owner.userId, cursor: null });
    expect(await lastActive(canvas, owner)).toBe(first);
    await api.app.deps.db.query(
      "UPDATE canvas_members SET last_active_at = now() - interval '31 seconds' WHERE canvas_id = $1 AND user_id = $2",
      [canvas, owner.userId],
    );
    const old = await lastActive(canvas, owner);
    await service.update({ canvasId: canvas, userId: owner.userId, cursor: null });
    expect(await lastActive(canvas, owner)).toBe(old);
    clock += 31_000;
    await service.update({ canvasId: canvas, userId: owner.userId, cursor: null });
    const fresh = await lastActive(canvas, owner);
    expect(fresh).not.toBe(old);
    expect(new Date(fresh!).getTime()).toBeGreaterThan(new Date(old!).getTime());
  });

  it("API-3: H3/H6 refuse bad input with 400 and non-members with 404, publishing nothing", async () => {
    const owner = await api.user();
    const stranger = await api.user();
    const canvas = await api.canvas(owner);
    const sub = await listen(canvas);
    try {
      for (const json of [
        { cursor: { x: "1", y: 2 } },
        { cursor: { x: 1 } },
        { cursor: { x: 1, y: 2, z: 3 } },
        { typing: "yes" },
        { block_id: "nope" },
        { color: "red" },
      ]) {
        const res = await owner.fetch(`/api/v1/canvas/${canvas}/presence`, { method: "POST", json });
        expect(res.status, JSON.stringify(json)).toBe(400);
      }
      expect(
        (await owner.fetch(`/api/v1/canvas/${canvas}/leave`, { method: "POST", json: { x: 1 } })).status,
      ).toBe(400);
      expect(
        (await stranger.fetch(`/api/v1/canvas/${canvas}/presence`, { method: "POST", json: {} })).status,
      ).toBe(404);
      expect(
        (await stranger.fetch(`/api/v1/canvas/${canvas}/leave`, { method: "POST", json: {} })).status,
      ).toBe(404);
      await new Promise((r) => setTimeout(r, 100));
      expect(sub.messages).toEqual([]);
      expect(await lastActive(canvas, owner)).toBeNull();
    } finally {
      await sub.stop();
    }
  });
});
