/**
 * UI-3 against the real server: the sync engine's key scenarios (which src/lib/sync/*.test.ts
 * play against the in-memory fake) with real engines and the real API server — PGlite and
 * in-process ports by default, PostgreSQL through PgBouncer + Redis in CI.
 *
 * Failure injection wraps the real transports, never replaces them: `InjectingSocket` is the
 * `ws` client with a hand on its frames (it can drop one event, or go deaf after a mutation frame
 * and drop the connection when its answer comes, so the server commits what the client never
 * hears), and a socket can be refused by pointing it at a canvas the user cannot read (the
 * server's real 404 before the upgrade).
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import {
  type BlockJson,
  createMemoryPendingStore,
  createRestTransport,
  createWsTransport,
  type Op,
  type SocketCtor,
  type SocketLike,
  SyncEngine,
  type SyncTransport,
} from "../../src/lib/sync";
import { startTestApi, type TestApi, type TestUser } from "../support/apiHarness";
import { canonicalBlocks, GENEROUS_LIMITS, snapshotOf, until } from "../support/engines";

interface Frame {
  id?: number | string | null;
  method?: string;
  params?: { path?: string; input?: { ops?: Op[] } };
  result?: { type?: string; data?: unknown };
}

/** What the test does to, and sees of, one engine's sockets. */
interface SocketControl {
  /** New sockets go to a canvas the user cannot read: refused (404) before the upgrade. */
  refuse: boolean;
  /** The next sync.mutate frame: sent, then the socket hears nothing more and drops on its answer. */
  loseNextAnswer: boolean;
  /** Drop the next `op` event this client would receive (a frame lost on the way). */
  dropNextOpEvent: boolean;
  /** Every sync.mutate frame sent, in order. */
  mutations: Op[][];
  /** Answers to sync.mutate frames that arrived. */
  answers: { results: { client_op_id: string | null; replayed?: boolean }[] }[];
  built: number;
}

function injectingSocket(ctl: SocketControl, refusedUrl: string): SocketCtor {
  return class InjectingSocket implements SocketLike {
    onopen: SocketLike["onopen"] = null;
    onmessage: SocketLike["onmessage"] = null;
    onclose: SocketLike["onclose"] = null;
    onerror: SocketLike["onerror"] = null;
    private readonly real: WebSocket;
    private deafUntil: number | string | null = null;
    private readonly mutationIds = new Set<number | string>();

    constructor(url: string, protocols?: string | string[]) {
      ctl.built++;
      this.real = new WebSocket(ctl.refuse ? refusedUrl : url, protocols);
      this.real.onopen = (ev) => this.onopen?.(ev);
      this.real.onerror = (ev) => this.onerror?.(ev);
      this.real.onclose = (ev) => this.onclose?.({ code: ev.code });
      this.real.onmessage = (ev) => {
        const frame = JSON.parse(String(ev.data)) as Frame;
        if (this.deafUntil !== null) {
          // The answer came: the server has committed; drop the connection without a word.
          if (frame.id === this.deafUntil) this.real.terminate();
          return;
        }
        const data = frame.result?.data as { data?: { type?: string }; type?: string } | undefined;
        const event = data?.data ?? data;
        if (ctl.dropNextOpEvent && frame.result?.type === "data" && event?.type === "op") {
          ctl.dropNextOpEvent = false;
          return;
        }
        if (frame.id != null && this.mutationIds.has(frame.id) && frame.result?.type === "data")
          ctl.answers.push(frame.result.data as SocketControl["answers"][number]);
        this.onmessage?.({ data: ev.data });
      };
    }

    get readyState(): number {
      return this.real.readyState;
    }

    send(data: string): void {
      const frame = JSON.parse(data) as Frame;
      if (frame.method === "mutation" && frame.params?.path === "sync.mutate" && frame.id != null) {
        this.mutationIds.add(frame.id);
        ctl.mutations.push(structuredClone(frame.params.input?.ops ?? []));
        if (ctl.loseNextAnswer) {
          ctl.loseNextAnswer = false;
          this.deafUntil = frame.id;
        }
      }
      this.real.send(data);
    }

    close(code?: number, reason?: string): void {
      this.real.close(code, reason);
    }
  };
}

/** A REST transport whose calls the test can see. */
function recordingRest(inner: SyncTransport) {
  const calls = { mutate: [] as Op[][], snapshots: [] as (number | undefined)[] };
  const rest: SyncTransport = {
    kind: inner.kind,
    mutate: (ops) => {
      calls.mutate.push(structuredClone(ops));
      return inner.mutate(ops);
    },
    snapshot: (since) => {
      calls.snapshots.push(since);
      return inner.snapshot(since);
    },
    subscribe: (since, handlers) => inner.subscribe(since, handlers),
    presence: (input) => inner.presence(input),
  };
  return { rest, calls };
}

let api: TestApi;
let alice: TestUser;
let bob: TestUser;
let carol: TestUser;

beforeAll(async () => {
  api = await startTestApi({
    RATE_LIMITS: JSON.stringify({ ...JSON.parse(GENEROUS_LIMITS), A7: { points: 100, duration: 1 } }),
  });
  [alice, bob, carol] = [await api.user("Alice"), await api.user("Bob"), await api.user("Carol")];
}, 120_000);

afterAll(async () => {
  await api?.stop();
});

const engines: SyncEngine[] = [];

/** A real engine for `user`, with its socket and REST calls in the test's hands. */
function engineFor(
  user: TestUser,
  canvasId: string,
  opts: {
    realtimeMode?: "websocket" | "polling";
    initial?: { blocks: BlockJson[]; server_seq: number };
    refuse?: boolean;
  } = {},
) {
  const ctl: SocketControl = {
    refuse: opts.refuse ?? false,
    loseNextAnswer: false,
    dropNextOpEvent: false,
    mutations: [],
    answers: [],
    built: 0,
  };
  const base = `${api.url.replace(/^http/, "ws")}/ws/canvas`;
  const { rest, calls } = recordingRest(
    createRestTransport({ baseUrl: api.url, canvasId, getToken: () => user.token, pollIntervalMs: 25 }),
  );
  const ws = createWsTransport({
    url: `${base}/${canvasId}?token=${user.token}`,
    WebSocket: injectingSocket(ctl, `${base}/${randomUUID()}?token=${user.token}`),
    snapshot: (since) => rest.snapshot(since),
  });
  const engine = new SyncEngine({
    canvasId,
    store: createMemoryPendingStore(),
    rest,
    ws,
    realtimeMode: opts.realtimeMode ?? "websocket",
    ...(opts.initial ? { initial: structuredClone(opts.initial) } : {}),
    pacing: false,
    batchWindowMs: 0,
    maxBatchMs: 0,
    backoffBaseMs: 20,
    backoffMaxMs: 100,
    maxSocketFailures: 2,
    socketRetryMs: 300,
  });
  engines.push(engine);
  return { engine, ctl, calls };
}

async function canvasWith(owner: TestUser, members: [TestUser, "writer" | "reader"][] = []): Promise<string> {
  const canvasId = await api.canvas(owner, "engine scenarios");
  for (const [u, role] of members) await api.member(canvasId, u, role);
  return canvasId;
}

/** H2 as `user`: one op, answered 200. */
async function mutateAs(user: TestUser, canvasId: string, op: Record<string, unknown>): Promise<void> {
  const res = await user.fetch(`/api/v1/canvas/${canvasId}/mutate`, {
    method: "POST",
    json: { ops: [{ client_op_id: randomUUID(), ...op }] },
  });
  expect(res.status).toBe(200);
}

/** Everything sent and delivered: the engine shows exactly what the database holds. */
async function settled(engine: SyncEngine, user: TestUser, canvasId: string): Promise<void> {
  await until("nothing pending", () => engine.getSnapshot().pendingCount === 0);
  const head = await snapshotOf(user, canvasId);
  await until("the engine at the head", () => engine.getSnapshot().serverSeq >= head.server_seq);
  expect(canonicalBlocks(engine.getSnapshot().blocks)).toEqual(canonicalBlocks(head.blocks));
}

describe("the sync engine against the real server (UI-3)", () => {
  afterAll(() => {
    for (const e of engines) e.stop();
  });

  for (const mode of ["websocket", "polling"] as const) {
    it(`UI-3: an edit shows at once and is then confirmed by the server (${mode})`, async () => {
      const canvasId = await canvasWith(alice);
      const { engine } = engineFor(alice, canvasId, { realtimeMode: mode });
      await engine.start();
      await until(
        mode,
        () => engine.getSnapshot().connection === (mode === "websocket" ? "live" : "polling"),
      );
      const id = engine.create({ type: "text", content: "hello" });
      engine.editText(id, [5, " world"]);
      // Optimistic: in the view before any answer, not yet the server's block.
      const shown = engine.getSnapshot().byId.get(id);
      expect(shown).toMatchObject({ content: "hello world", version: 0, created_by: null });
      expect(engine.getSnapshot().pendingCount).toBeGreaterThan(0);
      await settled(engine, alice, canvasId);
      expect(engine.getSnapshot().byId.get(id)).toMatchObject({
        content: "hello world",
        version: 2,
        created_by: alice.userId,
      });
    });
  }

  it("MUT-3: an answer lost with its socket is resent after the reconnect with the same client_op_id, and applied once", async () => {
    const canvasId = await canvasWith(alice);
    const { engine, ctl } = engineFor(alice, canvasId);
    await engine.start();
    await until("live", () => engine.getSnapshot().connection === "live");
    ctl.loseNextAnswer = true;
    const id = engine.create({ type: "todo", content: "once", props: { checked: false } });
    await until("the resend", () => ctl.mutations.length >= 2);
    await settled(engine, alice, canvasId);
    const [first, again] = ctl.mutations;
    expect(again).toEqual(first);
    const clientOpId = first?.[0]?.client_op_id;
    expect(ctl.answers.flatMap((a) => a.results)).toContainEqual(
      expect.objectContaining({ client_op_id: clientOpId, replayed: true }),
    );
    const rows = await api.app.deps.db.query<{ status: string }>(
      "SELECT status FROM block_operations WHERE client_op_id = $1",
      [clientOpId],
    );
    expect(rows.map((r) => r.status)).toEqual(["success"]);
    expect((await snapshotOf(alice, canvasId)).blocks.filter((b) => b.block_id === id)).toHaveLength(1);
  });

  it("RT-5: an op event lost on the way is a gap in prev_seq, healed by replaying H4 since the last seq seen", async () => {
    const canvasId = await canvasWith(alice, [[bob, "writer"]]);
    const { engine, ctl, calls } = engineFor(bob, canvasId);
    await engine.start();
    await until("live", () => engine.getSnapshot().connection === "live");
    const id = randomUUID();
    await mutateAs(alice, canvasId, { action: "create", block_id: id, type: "text", content: "one" });
    await until("the first op", () => engine.getSnapshot().byId.has(id));
    const seen = engine.getSnapshot().serverSeq;
    ctl.dropNextOpEvent = true;
    await mutateAs(alice, canvasId, { action: "update", block_id: id, base_version: 1, content: "two" });
    await mutateAs(alice, canvasId, { action: "update", block_id: id, base_version: 2, content: "three" });
    await until("healed", () => engine.getSnapshot().byId.get(id)?.content === "three");
    expect(ctl.dropNextOpEvent).toBe(false);
    expect(calls.snapshots).toContain(seen);
    await settled(engine, bob, canvasId);
  });

  it("UI-3: a socket that cannot connect falls back to REST polling; the edits go through H2, and back to the socket once it can", async () => {
    const canvasId = await canvasWith(alice, [[bob, "writer"]]);
    const { engine, ctl, calls } = engineFor(bob, canvasId, { refuse: true });
    await engine.start();
    await until("polling", () => engine.getSnapshot().connection === "polling");
    const viaRest = engine.create({ type: "text", content: "via rest" });
    await settled(engine, bob, canvasId);
    expect(calls.mutate.flat().map((op) => op.block_id)).toContain(viaRest);
    expect(ctl.mutations).toEqual([]);

    ctl.refuse = false;
    await until("live again", () => engine.getSnapshot().connection === "live");
    const viaSocket = engine.create({ type: "text", content: "via socket" });
    await settled(engine, bob, canvasId);
    expect(ctl.mutations.flat().map((op) => op.block_id)).toEqual([viaSocket]);
    // Alice's edit reaches Bob over the socket too.
    await mutateAs(alice, canvasId, {
      action: "update",
      block_id: viaRest,
      base_version: 1,
      content: "edited",
    });
    await until("Alice's edit", () => engine.getSnapshot().byId.get(viaRest)?.content === "edited");
  });

  it("MUT-4, UI-4: an offline edit over someone else's change opens a conflict; Keep mine resubmits it against the current version", async () => {
    const canvasId = await canvasWith(alice, [[bob, "writer"]]);
    const id = randomUUID();
    const same = randomUUID();
    await mutateAs(alice, canvasId, { action: "create", block_id: id, type: "text", content: "Hello" });
    await mutateAs(alice, canvasId, { action: "create", block_id: same, type: "text", content: "Same" });
    const s0 = await snapshotOf(bob, canvasId);
    // Bob edits from that snapshot before his engine connects; Alice changes the same fields.
    const { engine } = engineFor(bob, canvasId, { initial: s0 });
    engine.update(id, { type: "heading" });
    engine.update(same, { type: "quote" });
    await mutateAs(alice, canvasId, { action: "update", block_id: id, base_version: 1, type: "quote" });
    await mutateAs(alice, canvasId, { action: "update", block_id: same, base_version: 1, type: "quote" });
    await engine.start();
    await until("the conflict", () => engine.getSnapshot().conflicts.length > 0);
    await settled(engine, bob, canvasId);
    // MUT-10: the same change by both is no conflict.
    const { conflicts } = engine.getSnapshot();
    expect(conflicts).toHaveLength(1);
    expect(conflicts[0]).toMatchObject({
      blockId: id,
      reason: "stale_fields",
      fields: [{ field: "type", base: "text", theirs: "quote", mine: "heading" }],
    });
    expect(engine.getSnapshot().byId.get(id)?.type).toBe("quote");

    engine.resolveConflict(conflicts[0]!.id, "mine");
    expect(engine.getSnapshot().conflicts).toEqual([]);
    await settled(engine, bob, canvasId);
    expect((await snapshotOf(alice, canvasId)).blocks.find((b) => b.block_id === id)?.type).toBe("heading");
  });

  it("RT-6, UI-3: losing membership closes the socket with 4403 and a deleted canvas with 4404: the engine stops, keeps its unsent ops, and never reconnects", async () => {
    const canvasId = await canvasWith(alice, [
      [bob, "writer"],
      [carol, "reader"],
    ]);
    const b = engineFor(bob, canvasId);
    const c = engineFor(carol, canvasId);
    await b.engine.start();
    await c.engine.start();
    await until("both live", () => [b, c].every(({ engine }) => engine.getSnapshot().connection === "live"));
    const removed = await alice.fetch(`/api/v1/canvas/${canvasId}/members/${bob.userId}`, {
      method: "DELETE",
    });
    expect(removed.status).toBe(204);
    await until("Bob closed", () => b.engine.getSnapshot().connection === "closed");
    expect(b.engine.getSnapshot().closedReason).toBe("access_removed");
    // An edit made now stays queued: nothing is sent, nothing lost.
    b.engine.create({ type: "text", content: "unsent" });
    expect(b.engine.getSnapshot().pendingCount).toBe(1);

    const deleted = await alice.fetch(`/api/v1/canvas/${canvasId}`, { method: "DELETE" });
    expect(deleted.status).toBe(204);
    await until("Carol closed", () => c.engine.getSnapshot().connection === "closed");
    expect(c.engine.getSnapshot().closedReason).toBe("canvas_deleted");

    const built = b.ctl.built + c.ctl.built;
    const sent = b.ctl.mutations.length;
    // Longer than any backoff (100 ms) and socket probe (300 ms): a closed engine stays closed.
    await new Promise((r) => setTimeout(r, 800));
    expect(b.ctl.built + c.ctl.built).toBe(built);
    expect(b.ctl.mutations.length).toBe(sent);
    expect(b.engine.getSnapshot()).toMatchObject({ connection: "closed", pendingCount: 1 });
  });
});
