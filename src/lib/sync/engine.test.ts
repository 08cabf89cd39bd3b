import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { SyncEngine } from "./engine";
// The fake server and transports are these tests' own in-process simulation of the server.
import { FakeSyncServer, FakeTransport } from "./fakeServer";
import type { SyncEngineOptions } from "./options";
import { createLocalStoragePendingStore, createMemoryPendingStore } from "./pendingStore";
import type { OpResult } from "./types";
import { TransientError } from "./types";

let n = 0;
const uuid = () => `00000000-0000-4000-8000-${String(++n).padStart(12, "0")}`;

async function settle(): Promise<void> {
  await vi.advanceTimersByTimeAsync(0);
}

function setup(extra: Partial<SyncEngineOptions> = {}, server = new FakeSyncServer()) {
  const ws = new FakeTransport(server, "websocket");
  const rest = new FakeTransport(server, "rest");
  const store = createMemoryPendingStore();
  const make = (more: Partial<SyncEngineOptions> = {}) =>
    new SyncEngine({
      pacing: false,
      canvasId: "c",
      store,
      ws,
      rest,
      randomUUID: uuid,
      now: () => Date.now(),
      ...extra,
      ...more,
    });
  return { server, ws, rest, store, make };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("sync engine (UI-3)", () => {
  it("UI-3: create/update/move/delete apply locally at once, in y_order", async () => {
    const { ws, make } = setup();
    ws.manual = true;
    const e = make();
    await e.start();
    await settle();
    const a = e.create({ type: "text", content: "a" });
    const b = e.create({ type: "text", content: "b" });
    const c = e.create({ type: "text", content: "c", position: { after: a } });
    expect(e.getSnapshot().blocks.map((x) => x.content)).toEqual(["a", "c", "b"]);
    e.update(b, { props: { checked: true } });
    e.move(a, { after: b });
    expect(e.getSnapshot().blocks.map((x) => x.block_id)).toEqual([c, b, a]);
    expect(e.getSnapshot().byId.get(b)?.props).toEqual({ checked: true });
    e.delete(c);
    expect(e.getSnapshot().blocks.map((x) => x.block_id)).toEqual([b, a]);
    expect(e.getSnapshot().pendingCount).toBe(6);
    e.stop();
  });

  it("UI-3: a success confirms the op; the server block replaces the optimistic one", async () => {
    const { server, make } = setup();
    const e = make();
    await e.start();
    await settle();
    const id = e.create({ type: "text", content: "hello" });
    await settle();
    const s = e.getSnapshot();
    expect(s.pendingCount).toBe(0);
    expect(s.byId.get(id)).toEqual(server.rows.get(id)?.block);
    expect(s.serverSeq).toBe(server.lastSeq);
    expect(s.connection).toBe("live");
    e.stop();
  });

  it("UI-3: the pending queue survives a reload and is resent with the same client_op_ids (MUT-3)", async () => {
    const { ws, rest, store, make, server } = setup();
    ws.down = true;
    rest.down = true;
    const e1 = make({ initial: { blocks: [], server_seq: 0 } });
    await e1.start();
    const id = e1.create({ type: "text", content: "x" });
    e1.editText(id, [1, "y"]);
    await settle();
    e1.stop();
    const saved = store.ops.map((p) => p.op.client_op_id);
    expect(saved).toHaveLength(2);
    ws.down = false;
    rest.down = false;
    const e2 = make();
    await e2.start();
    await vi.advanceTimersByTimeAsync(100);
    expect(ws.sent.flat().map((o) => o.client_op_id)).toEqual(saved);
    expect(server.rows.get(id)?.block.content).toBe("xy");
    expect(e2.getSnapshot().pendingCount).toBe(0);
    expect(store.ops).toEqual([]);
    e2.stop();
  });

  it("UI-3 / MUT-3: an edit made before start() is queued and sent once, not a second time from the store", async () => {
    const conflicts: unknown[] = [];
    const { ws, store, make, server } = setup({ onConflict: (r) => conflicts.push(r) });
    const id = uuid();
    server.mutate([{ client_op_id: uuid(), action: "create", block_id: id, type: "text", content: "a" }]);
    const initial = { blocks: server.liveBlocks(), server_seq: server.lastSeq };
    server.mutate([{ client_op_id: uuid(), action: "update", block_id: id, base_version: 1, type: "quote" }]);
    // Made offline from A1's snapshot before the engine starts (the store already holds it).
    const e = make({ initial });
    e.update(id, { type: "heading" });
    expect(store.ops).toHaveLength(1);
    await e.start();
    await vi.advanceTimersByTimeAsync(100);
    expect(ws.sent.flat()).toHaveLength(1);
    expect(e.getSnapshot().conflicts).toHaveLength(1);
    expect(conflicts).toHaveLength(1);
    expect(e.getSnapshot().pendingCount).toBe(0);
    e.stop();
  });

  it("UI-3: the localStorage store round-trips per user and canvas, and tolerates garbage", async () => {
    const mem = new Map<string, string>();
    const ls = {
      getItem: (k: string) => mem.get(k) ?? null,
      setItem: (k: string, v: string) => void mem.set(k, v),
    };
    const s = createLocalStoragePendingStore("c1", "u1", ls);
    const op = { op: { client_op_id: uuid(), action: "delete" as const, block_id: uuid(), base_version: 1 } };
    await s.save([op]);
    expect(await s.load()).toEqual([op]);
    // Another account on this browser has its own queue: it never sends u1's ops as its own.
    expect(await createLocalStoragePendingStore("c1", "u2", ls).load()).toEqual([]);
    expect(await createLocalStoragePendingStore("c1", "u1", ls).load()).toEqual([op]);
    mem.set("potentia.pending.u1.c1", "{not json");
    expect(await s.load()).toEqual([]);
  });

  it("UI-3: keystrokes within the window are composed into one text_op", async () => {
    const { ws, make, server } = setup({ batchWindowMs: 50 });
    const e = make();
    await e.start();
    await settle();
    const id = e.create({ type: "text", content: "" });
    await settle();
    ws.sent = [];
    e.editText(id, ["h"]);
    await vi.advanceTimersByTimeAsync(20);
    e.editText(id, [1, "i"]);
    await vi.advanceTimersByTimeAsync(20);
    e.editText(id, [2, "!"]);
    expect(e.getSnapshot().byId.get(id)?.content).toBe("hi!");
    expect(ws.sent).toEqual([]);
    await vi.advanceTimersByTimeAsync(60);
    expect(ws.sent).toHaveLength(1);
    expect(ws.sent[0]).toHaveLength(1);
    expect(ws.sent[0]?.[0]?.text_op).toEqual(["hi!"]);
    expect(server.rows.get(id)?.block.content).toBe("hi!");
    e.stop();
  });

  it("UI-3: keystrokes that cancel out before sending leave nothing queued or sent", async () => {
    const errors: unknown[] = [];
    const { ws, make } = setup({ onError: (err) => errors.push(err) });
    const e = make();
    await e.start();
    await settle();
    const id = e.create({ type: "text", content: "ab" });
    await settle();
    ws.sent = [];
    e.editText(id, [2, "c"]);
    e.editText(id, [2, { d: 1 }]);
    expect(e.getSnapshot().pendingCount).toBe(0);
    expect(e.getSnapshot().byId.get(id)?.content).toBe("ab");
    await vi.advanceTimersByTimeAsync(500);
    expect(ws.sent).toEqual([]);
    expect(errors).toEqual([]);
    e.stop();
  });

  it("UI-3: continuous typing is sent at least every maxBatchMs, not held until a pause", async () => {
    const { ws, make, server } = setup({ batchWindowMs: 50, maxBatchMs: 250 });
    const e = make();
    await e.start();
    await settle();
    const id = e.create({ type: "text", content: "" });
    await settle();
    ws.sent = [];
    let text = "";
    for (let i = 0; i < 20; i++) {
      e.editText(id, text.length ? [text.length, "x"] : ["x"]);
      text += "x";
      await vi.advanceTimersByTimeAsync(30); // faster than the window: the batch never idles
    }
    // 600 ms of typing: sent in slices of at most 250 ms, not one op per key and not nothing.
    expect(ws.sent.length).toBeGreaterThanOrEqual(2);
    expect(ws.sent.length).toBeLessThanOrEqual(4);
    await vi.advanceTimersByTimeAsync(300);
    expect(server.rows.get(id)?.block.content).toBe(text);
    e.stop();
  });

  it("UI-3 pacing (MUT-7, RT-6): a minute of fast typing stays within 100 requests and loses nothing", async () => {
    const { ws, make, server } = setup({ pacing: undefined });
    const e = make({ pacing: undefined });
    await e.start();
    await settle();
    const id = e.create({ type: "text", content: "" });
    await settle();
    ws.sent = [];
    const sentAt: number[] = [];
    const mutate = ws.mutate.bind(ws);
    ws.mutate = (ops) => {
      sentAt.push(Date.now());
      return mutate(ops);
    };
    const start = Date.now();
    let text = "";
    // 12 keys a second for 60 s, each typed after its block's previous op is in flight or not.
    for (let i = 0; i < 720; i++) {
      const ch = String.fromCharCode(97 + (i % 26));
      e.editText(id, text.length ? [text.length, ch] : [ch]);
      text += ch;
      await vi.advanceTimersByTimeAsync(83);
    }
    await vi.advanceTimersByTimeAsync(5_000);
    expect(server.rows.get(id)?.block.content).toBe(text);
    expect(e.getSnapshot().pendingCount).toBe(0);
    const inFirstMinute = sentAt.filter((t) => t - start < 60_000).length;
    expect(inFirstMinute).toBeLessThanOrEqual(100);
    // RT-6 leaves room for presence: never more than 5 requests in any second.
    for (const t of sentAt)
      expect(sentAt.filter((u) => u > t - 1000 && u <= t).length).toBeLessThanOrEqual(5);
    e.stop();
  });

  it("UI-3: conflict goes to onConflict, failed to onError, both leave the queue", async () => {
    const conflicts: OpResult[] = [];
    const errors: unknown[] = [];
    const { server, make } = setup({
      onConflict: (r) => conflicts.push(r),
      onError: (err) => errors.push(err),
    });
    const e = make();
    await e.start();
    await settle();
    const id = e.create({ type: "text", content: "a" });
    await settle();
    // Someone else changes props after our base: our props update conflicts (MUT-4).
    server.mutate([
      { client_op_id: uuid(), action: "update", block_id: id, base_version: 1, props: { x: 1 } },
    ]);
    e.update(id, { props: { x: 2 } });
    await settle();
    await settle();
    expect(conflicts.map((r) => r.status)).toEqual(["conflict"]);
    e.create({ type: "text", block_id: id });
    await settle();
    expect(errors).toEqual([{ code: "exists", message: "exists" }]);
    expect(e.getSnapshot().pendingCount).toBe(0);
    expect(e.getSnapshot().byId.get(id)?.props).toEqual({ x: 1 });
    e.stop();
  });

  it("UI-3: rate_limited and network errors retry with backoff, same ids, in order", async () => {
    const { ws, make, server } = setup({ backoffBaseMs: 100 });
    const e = make();
    await e.start();
    await settle();
    const real = ws.mutate.bind(ws);
    const rl: OpResult = {
      ...{
        client_op_id: null,
        block_id: null,
        status: "failed",
        server_seq: null,
        version: null,
        block: null,
      },
      error: { code: "rate_limited", message: "" },
    };
    let calls = 0;
    ws.mutate = (ops) => {
      calls++;
      ws.sent.push(ops);
      if (calls === 1) return Promise.reject(new TransientError("network"));
      if (calls === 2)
        return Promise.resolve({
          results: ops.map((o) => ({ ...rl, client_op_id: o.client_op_id, block_id: o.block_id })),
        });
      return real(ops);
    };
    const a = e.create({ type: "text", content: "1" });
    await settle();
    expect(server.rows.size).toBe(0);
    await vi.advanceTimersByTimeAsync(150);
    expect(server.rows.size).toBe(0);
    await vi.advanceTimersByTimeAsync(250);
    expect(new Set(ws.sent.map((ops) => ops[0]?.client_op_id))).toEqual(
      new Set([ws.sent[0]?.[0]?.client_op_id]),
    );
    expect(server.rows.get(a)?.block.content).toBe("1");
    expect(e.getSnapshot().pendingCount).toBe(0);
    e.stop();
  });

  it("UI-3: after the socket drops, it resubscribes from serverSeq and resends pending", async () => {
    const { ws, make, server } = setup({ backoffBaseMs: 100 });
    const e = make();
    await e.start();
    await settle();
    e.create({ type: "text", content: "a" });
    await settle();
    const seq = e.getSnapshot().serverSeq;
    ws.manual = true;
    const id = e.create({ type: "text", content: "b" });
    await settle();
    expect(ws.requests).toHaveLength(1);
    ws.requests = [];
    ws.down = true;
    ws.drop();
    expect(e.getSnapshot().connection).toBe("reconnecting");
    ws.down = false;
    ws.manual = false;
    await vi.advanceTimersByTimeAsync(1000);
    expect(ws.subscribes.at(-1)).toBe(seq);
    expect(e.getSnapshot().connection).toBe("live");
    const ids = ws.sent.map((ops) => ops[0]?.client_op_id);
    expect(ids.at(-1)).toBe(ids.at(-2));
    expect(server.rows.get(id)?.block.content).toBe("b");
    expect(e.getSnapshot().pendingCount).toBe(0);
    e.stop();
  });

  it("UI-3: a prev_seq gap stops applying and replays from serverSeq (RT-5)", async () => {
    const { ws, rest, make, server } = setup();
    const e = make();
    await e.start();
    await settle();
    ws.manual = true;
    const id = uuid();
    server.mutate([{ client_op_id: uuid(), action: "create", block_id: id, type: "text", content: "" }]);
    server.mutate([
      { client_op_id: uuid(), action: "update", block_id: id, base_version: 1, text_op: ["a"] },
    ]);
    server.mutate([
      { client_op_id: uuid(), action: "update", block_id: id, base_version: 2, text_op: [1, "b"] },
    ]);
    expect(ws.deliverOne()).toBe(true);
    await settle();
    expect(e.getSnapshot().serverSeq).toBe(1);
    const third = server.log[2];
    if (!third) throw new Error("no third op");
    ws.inject(third); // the second was lost on the way
    await settle();
    expect(rest.snapshots).toContain(1);
    expect(e.getSnapshot().serverSeq).toBe(3);
    expect(e.getSnapshot().byId.get(id)?.content).toBe("ab");
    expect(ws.subscribes.at(-1)).toBe(3);
    e.stop();
  });

  it("UI-3: resync reloads a snapshot and keeps pending ops on top", async () => {
    const { ws, rest, make, server } = setup();
    const e = make();
    await e.start();
    await settle();
    const id = e.create({ type: "text", content: "" });
    await settle();
    ws.manual = true;
    e.update(id, { props: { mine: true } });
    await settle();
    server.mutate([
      { client_op_id: uuid(), action: "create", block_id: uuid(), type: "todo", content: "other" },
    ]);
    ws.inject({ type: "resync" });
    await settle();
    expect(rest.snapshots.at(-1)).toBeUndefined();
    expect(e.getSnapshot().serverSeq).toBe(server.lastSeq);
    expect(e.getSnapshot().blocks.map((b) => b.content)).toEqual(["", "other"]);
    expect(e.getSnapshot().byId.get(id)?.props).toEqual({ mine: true });
    ws.manual = false;
    for (const r of ws.requests) r();
    await vi.advanceTimersByTimeAsync(5000);
    expect(e.getSnapshot().pendingCount).toBe(0);
    expect(e.getSnapshot().blocks).toEqual(server.liveBlocks());
    e.stop();
  });

  it("UI-3: falls back to REST polling when the socket cannot connect, and back when it can", async () => {
    const { ws, rest, make, server } = setup({
      maxSocketFailures: 2,
      backoffBaseMs: 100,
      socketRetryMs: 10_000,
    });
    ws.down = true;
    const states: string[] = [];
    const e = make();
    e.subscribe(() => states.push(e.getSnapshot().connection));
    await e.start();
    await vi.advanceTimersByTimeAsync(1000);
    expect(e.getSnapshot().connection).toBe("polling");
    expect(states).toContain("reconnecting");
    const a = e.create({ type: "text", content: "via rest" });
    await settle();
    expect(rest.sent.flat().map((o) => o.block_id)).toEqual([a]);
    ws.down = false;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(e.getSnapshot().connection).toBe("live");
    const b = e.create({ type: "text", content: "via socket" });
    await settle();
    expect(ws.sent.flat().map((o) => o.block_id)).toEqual([b]);
    expect(e.getSnapshot().blocks).toEqual(server.liveBlocks());
    // A1 says polling (OPS-6): the engine follows, and back.
    e.setRealtimeMode("polling");
    await settle();
    expect(e.getSnapshot().connection).toBe("polling");
    e.setRealtimeMode("websocket");
    await settle();
    expect(e.getSnapshot().connection).toBe("live");
    e.stop();
    e.stop(); // idempotent, and no timer outlives the engine
    expect(vi.getTimerCount()).toBe(0);
  });

  it("UI-3 / MUT-5: two clients typing into one block converge (random interleavings)", async () => {
    // Positions at the ends often, so concurrent inserts tie (where the transform side matters).
    const at = fc.oneof(fc.constantFrom(0, 1), fc.double({ min: 0, max: 1, noNaN: true }));
    const cmd = fc.oneof(
      fc.record({
        c: fc.integer({ min: 0, max: 1 }),
        k: fc.constant("ins"),
        at,
        s: fc.constantFrom("a", "b", "xy", "z"),
      }),
      fc.record({
        c: fc.integer({ min: 0, max: 1 }),
        k: fc.constant("del"),
        at,
        s: fc.constant(""),
      }),
      fc.record({
        c: fc.integer({ min: 0, max: 1 }),
        k: fc.constantFrom("release", "deliver", "tick"),
        at: fc.constant(0),
        s: fc.constant(""),
      }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(cmd, { minLength: 10, maxLength: 80, size: "large" }), async (cmds) => {
        const server = new FakeSyncServer();
        const id = uuid();
        server.mutate([
          { client_op_id: uuid(), action: "create", block_id: id, type: "text", content: "hello" },
        ]);
        const clients = [0, 1].map(() => {
          const ws = new FakeTransport(server, "websocket");
          const rest = new FakeTransport(server, "rest");
          ws.manual = true;
          const engine = new SyncEngine({
            pacing: false,
            canvasId: "c",
            store: createMemoryPendingStore(),
            ws,
            rest,
            randomUUID: uuid,
            now: () => Date.now(),
            batchWindowMs: 30,
          });
          return { ws, engine };
        });
        // No jump on confirmation: our own op coming back never changes what the client shows
        // (its local rebasing matched the server's, which takes incoming ops on the "left").
        const deliver = (client: (typeof clients)[number]): boolean => {
          const next = client.ws.peek();
          const own = next && client.ws.sent.flat().some((o) => o.client_op_id === next.client_op_id);
          const shown = client.engine.getSnapshot().byId.get(id)?.content;
          const delivered = client.ws.deliverOne();
          if (own) expect(client.engine.getSnapshot().byId.get(id)?.content).toBe(shown);
          return delivered;
        };
        for (const { engine } of clients) await engine.start();
        await settle();
        for (const { c, k, at, s } of cmds) {
          const client = clients[c] as (typeof clients)[number];
          const { ws, engine } = client;
          const text = engine.getSnapshot().byId.get(id)?.content ?? "";
          const pos = Math.min(text.length, Math.floor(at * (text.length + 1)));
          if (k === "ins") engine.editText(id, pos > 0 ? [pos, s] : [s]);
          else if (k === "del" && pos < text.length)
            engine.editText(id, pos > 0 ? [pos, { d: 1 }] : [{ d: 1 }]);
          else if (k === "release") ws.requests.shift()?.();
          else if (k === "deliver") deliver(client);
          else if (k === "tick") await vi.advanceTimersByTimeAsync(40);
          await settle();
        }
        for (let i = 0; i < 100; i++) {
          let busy = false;
          for (const client of clients) {
            while (client.ws.requests.length > 0) {
              client.ws.requests.shift()?.();
              busy = true;
            }
            await settle();
            while (deliver(client)) {
              busy = true;
              await settle();
            }
          }
          await vi.advanceTimersByTimeAsync(50);
          if (!busy && clients.every(({ engine }) => engine.getSnapshot().pendingCount === 0)) break;
        }
        const final = server.rows.get(id)?.block.content;
        for (const { engine } of clients) {
          expect(engine.getSnapshot().pendingCount).toBe(0);
          expect(engine.getSnapshot().byId.get(id)?.content).toBe(final);
          engine.stop();
        }
      }),
      { numRuns: 200 },
    );
  });

  it("UI-3 / MUT-4: a text edit under a foreign wholesale content change is sent stale and conflicts", async () => {
    const conflicts: OpResult[] = [];
    const { ws, make, server } = setup({ onConflict: (r) => conflicts.push(r) });
    const e = make();
    await e.start();
    await settle();
    const id = e.create({ type: "text", content: "abc" });
    await settle();
    ws.manual = true;
    e.editText(id, [3, "!"]);
    server.mutate([
      { client_op_id: uuid(), action: "update", block_id: id, base_version: 1, content: "new" },
    ]);
    ws.deliverOne();
    ws.manual = false;
    await vi.advanceTimersByTimeAsync(100);
    for (const r of ws.requests) r();
    await vi.advanceTimersByTimeAsync(100);
    expect(ws.sent.at(-1)?.[0]).toMatchObject({ base_version: 1, text_op: [3, "!"] });
    expect(conflicts.map((r) => r.status)).toEqual(["conflict"]);
    expect(e.getSnapshot().byId.get(id)?.content).toBe("new");
    e.stop();
  });
});

describe("sync engine: offline chains (MUT-9, MUT-10)", () => {
  /** A block "Hello" at version 1 on a fake server, and an engine that has seen it, offline. */
  async function offlineBob(onConflict: (r: OpResult) => void) {
    const server = new FakeSyncServer();
    const id = uuid();
    server.mutate([{ client_op_id: uuid(), action: "create", block_id: id, type: "text", content: "Hello" }]);
    const { ws, rest, make } = setup({ onConflict, backoffMaxMs: 100 }, server);
    ws.down = true;
    rest.down = true;
    const bob = make({ initial: { blocks: server.liveBlocks(), server_seq: server.lastSeq } });
    await bob.start();
    await settle();
    const online = async () => {
      ws.down = false;
      rest.down = false;
      await vi.advanceTimersByTimeAsync(2_000);
    };
    return { server, ws, id, bob, online };
  }

  it("MUT-9: an offline [text, type] chain does not overwrite another user's type change: the type conflicts", async () => {
    const conflicts: OpResult[] = [];
    const { server, ws, id, bob, online } = await offlineBob((r) => conflicts.push(r));
    bob.editText(id, [5, "!"]);
    bob.flush();
    bob.update(id, { type: "heading" });
    // Alice, online, makes it a quote (version 2).
    server.mutate([{ client_op_id: uuid(), action: "update", block_id: id, base_version: 1, type: "quote" }]);
    await online();
    const sent = ws.sent.flat();
    expect(sent.map((o) => o.base_version)).toEqual([1, 1]);
    expect(sent[1]!.prev_client_op_id).toBe(sent[0]!.client_op_id);
    expect(conflicts.map((r) => r.conflict?.fields.map((f) => [f.field, f.theirs, f.mine]))).toEqual([
      [["type", "quote", "heading"]],
    ]);
    expect(server.rows.get(id)?.block).toMatchObject({ type: "quote", content: "Hello!" });
    expect(bob.getSnapshot().byId.get(id)).toMatchObject({ type: "quote", content: "Hello!" });
    expect(bob.getSnapshot().conflicts).toHaveLength(1);
    bob.stop();
  });

  it("MUT-9: an offline chain that changes one field twice never conflicts with itself", async () => {
    const conflicts: OpResult[] = [];
    const { server, id, bob, online } = await offlineBob((r) => conflicts.push(r));
    bob.update(id, { type: "quote" });
    bob.editText(id, [5, "!"]);
    bob.flush();
    bob.update(id, { type: "heading" });
    bob.update(id, { props: { level: 1 } });
    bob.update(id, { props: { level: 2 } });
    // Alice's concurrent edit of the text merges and touches no field of the chain's.
    server.mutate([
      { client_op_id: uuid(), action: "update", block_id: id, base_version: 1, text_op: ["> "] },
    ]);
    await online();
    expect(conflicts).toEqual([]);
    expect(server.rows.get(id)?.block).toMatchObject({
      type: "heading",
      content: "> Hello!",
      props: { level: 2 },
    });
    expect(bob.getSnapshot().pendingCount).toBe(0);
    bob.stop();
  });

  it("MUT-10: an offline tick of a todo someone else ticked too opens no conflict", async () => {
    const conflicts: OpResult[] = [];
    const { server, id, bob, online } = await offlineBob((r) => conflicts.push(r));
    bob.update(id, { props: { checked: true } });
    server.mutate([
      { client_op_id: uuid(), action: "update", block_id: id, base_version: 1, props: { checked: true } },
    ]);
    await online();
    expect(conflicts).toEqual([]);
    expect(bob.getSnapshot().conflicts).toEqual([]);
    bob.stop();
  });
});

describe("sync engine: conflicts, presence, listeners, close codes (UI-3, UI-4, UI-5, RT-7)", () => {
  async function started(extra: Partial<SyncEngineOptions> = {}) {
    const s = setup(extra);
    const e = s.make();
    await e.start();
    await settle();
    return { ...s, e };
  }

  it("UI-4 conflict item: a stale props update adds an item with base/theirs/mine; onConflict still fires", async () => {
    const conflicts: OpResult[] = [];
    const { server, e } = await started({ onConflict: (r) => conflicts.push(r) });
    const id = e.create({ type: "text", content: "a", props: { x: 0 } });
    await settle();
    server.mutate([
      { client_op_id: uuid(), action: "update", block_id: id, base_version: 1, props: { x: 1 } },
    ]);
    e.update(id, { props: { x: 2 } });
    await settle();
    await settle();
    expect(conflicts).toHaveLength(1);
    const [item] = e.getSnapshot().conflicts;
    expect(item).toMatchObject({
      blockId: id,
      reason: "stale_fields",
      fields: [{ field: "props", base: { x: 0 }, theirs: { x: 1 }, mine: { x: 2 } }],
      op: { action: "update", block_id: id, props: { x: 2 } },
      result: { status: "conflict" },
    });
    expect(e.getSnapshot().byId.get(id)?.props).toEqual({ x: 1 });
    e.stop();
  });

  it("UI-4 an undecided conflict survives a reload (stored with the pending ops); deciding it there still works", async () => {
    const { server, store, make, e } = await started();
    const id = e.create({ type: "text", content: "a", props: { x: 0 } });
    await settle();
    server.mutate([
      { client_op_id: uuid(), action: "update", block_id: id, base_version: 1, props: { x: 1 } },
    ]);
    e.update(id, { props: { x: 2 } });
    await settle();
    await settle();
    expect(e.getSnapshot().conflicts).toHaveLength(1);
    e.stop();
    // A new page on the same store: the user still gets to choose.
    const again = make();
    await again.start();
    await settle();
    const [item] = again.getSnapshot().conflicts;
    expect(item).toMatchObject({
      blockId: id,
      fields: [{ field: "props", theirs: { x: 1 }, mine: { x: 2 } }],
    });
    again.resolveConflict(item!.id, "mine");
    await settle();
    await settle();
    expect(server.rows.get(id)?.block.props).toEqual({ x: 2 });
    expect(again.getSnapshot().conflicts).toEqual([]);
    expect(store.conflicts).toEqual([]);
    again.stop();
  });

  it("UI-4 conflict item: a text edit's mine is the full string even when the server echoes the text_op", async () => {
    const { server, ws, e } = await started();
    server.mineAsTextOp = true;
    const id = e.create({ type: "text", content: "abc" });
    await settle();
    ws.manual = true;
    e.editText(id, [3, "!"]);
    server.mutate([
      { client_op_id: uuid(), action: "update", block_id: id, base_version: 1, content: "new" },
    ]);
    ws.deliverOne();
    ws.manual = false;
    await vi.advanceTimersByTimeAsync(100);
    const [item] = e.getSnapshot().conflicts;
    expect(item?.fields).toEqual([{ field: "content", base: "abc", theirs: "new", mine: "abc!" }]);
    e.stop();
  });

  it("UI-4 resolveConflict theirs drops the item and sends nothing", async () => {
    const { server, ws, e } = await started();
    const id = e.create({ type: "text", content: "a" });
    await settle();
    server.mutate([{ client_op_id: uuid(), action: "update", block_id: id, base_version: 1, type: "todo" }]);
    e.update(id, { type: "heading" });
    await vi.advanceTimersByTimeAsync(100);
    const item = e.getSnapshot().conflicts[0];
    if (!item) throw new Error("no conflict");
    const sent = ws.sent.length;
    e.resolveConflict(item.id, "theirs");
    await vi.advanceTimersByTimeAsync(100);
    expect(e.getSnapshot().conflicts).toEqual([]);
    expect(ws.sent).toHaveLength(sent);
    expect(e.getSnapshot().byId.get(id)?.type).toBe("todo");
    e.stop();
  });

  it("UI-4 resolveConflict mine resubmits the conflicted fields against the current version, new client_op_id", async () => {
    const { server, ws, e } = await started();
    const id = e.create({ type: "text", content: "abc" });
    await settle();
    server.mutate([{ client_op_id: uuid(), action: "update", block_id: id, base_version: 1, type: "todo" }]);
    e.update(id, { type: "heading" });
    await vi.advanceTimersByTimeAsync(100);
    const item = e.getSnapshot().conflicts[0];
    if (!item) throw new Error("no conflict");
    e.resolveConflict(item.id, "mine");
    expect(e.getSnapshot().byId.get(id)?.type).toBe("heading");
    await vi.advanceTimersByTimeAsync(100);
    const resent = ws.sent.at(-1)?.[0];
    expect(resent).toMatchObject({ action: "update", block_id: id, base_version: 2, type: "heading" });
    expect(resent?.client_op_id).not.toBe(item.op.client_op_id);
    expect(server.rows.get(id)?.block.type).toBe("heading");
    expect(e.getSnapshot().conflicts).toEqual([]);
    expect(e.getSnapshot().pendingCount).toBe(0);
    e.stop();
  });

  it("UI-4 resolveConflict mine on a text conflict sets the content to the shown string", async () => {
    const { server, ws, e } = await started();
    const id = e.create({ type: "text", content: "abc" });
    await settle();
    ws.manual = true;
    e.editText(id, [3, "!"]);
    server.mutate([
      { client_op_id: uuid(), action: "update", block_id: id, base_version: 1, content: "new" },
    ]);
    ws.deliverOne();
    ws.manual = false;
    await vi.advanceTimersByTimeAsync(100);
    const item = e.getSnapshot().conflicts[0];
    if (!item) throw new Error("no conflict");
    e.resolveConflict(item.id, "mine");
    await vi.advanceTimersByTimeAsync(100);
    expect(server.rows.get(id)?.block.content).toBe("abc!");
    expect(e.getSnapshot().byId.get(id)?.content).toBe("abc!");
    e.stop();
  });

  it("UI-4 keep mine for a block deleted under our edit re-creates it under a new id, in place", async () => {
    const { server, ws, e } = await started();
    const a = e.create({ type: "text", content: "first" });
    const id = e.create({ type: "todo", content: "doomed", props: { checked: false } });
    const c = e.create({ type: "text", content: "last" });
    await settle();
    ws.manual = true;
    e.update(id, { props: { checked: true } });
    server.mutate([{ client_op_id: uuid(), action: "delete", block_id: id, base_version: 1 }]);
    ws.deliverOne();
    ws.manual = false;
    await vi.advanceTimersByTimeAsync(100);
    for (const r of ws.requests) r();
    await vi.advanceTimersByTimeAsync(100);
    const item = e.getSnapshot().conflicts[0];
    expect(item).toMatchObject({ reason: "deleted", blockId: id });
    expect(e.getSnapshot().byId.has(id)).toBe(false);
    e.resolveConflict(item?.id ?? "", "mine");
    await vi.advanceTimersByTimeAsync(100);
    const blocks = e.getSnapshot().blocks;
    expect(blocks.map((b) => b.content)).toEqual(["first", "doomed", "last"]);
    const again = blocks[1];
    expect(again?.block_id).not.toBe(id);
    expect(again).toMatchObject({ type: "todo", props: { checked: true } });
    expect(server.liveBlocks().map((b) => b.block_id)).toEqual([a, again?.block_id, c]);
    expect(e.getSnapshot().pendingCount).toBe(0);
    e.stop();
  });

  it("RT-7 sendPresence goes through the current transport, is never queued, and swallows failures", async () => {
    const { ws, rest, e } = await started();
    e.sendPresence({ cursor: { x: 1, y: 2 }, block_id: null });
    expect(ws.presences).toEqual([{ cursor: { x: 1, y: 2 }, block_id: null }]);
    ws.down = true;
    e.sendPresence({ typing: true });
    await settle();
    expect(e.getSnapshot().pendingCount).toBe(0);
    ws.down = false;
    e.setRealtimeMode("polling");
    await settle();
    e.sendPresence({ typing: false });
    expect(rest.presences).toEqual([{ typing: false }]);
    expect(ws.presences).toHaveLength(1);
    e.stop();
  });

  it("RT-7 onPresence gets presence / join / leave events; onOtherEvent still does", async () => {
    const other: unknown[] = [];
    const { ws, e } = await started({ onOtherEvent: (ev) => other.push(ev) });
    const seen: unknown[] = [];
    const off = e.onPresence((ev) => seen.push(ev));
    const events = [
      { type: "join", users: [{ user_id: "u2", name: "Ann" }] },
      { type: "presence", user_id: "u2", name: "Ann", cursor: { x: 3, y: 4 }, typing: true, block_id: null },
      { type: "leave", user_id: "u2" },
    ] as const;
    for (const ev of events) ws.inject(ev);
    expect(seen).toEqual(events);
    expect(other).toEqual(events);
    off();
    ws.inject(events[0]);
    expect(seen).toHaveLength(3);
    e.stop();
  });

  it("UI-5 onLocalOp fires per keystroke with the view before; onRemoteOp only for others' ops, relative to the view", async () => {
    const { server, ws, e } = await started({ batchWindowMs: 50 });
    const local: [string, string | undefined, unknown][] = [];
    const remote: [string, unknown, boolean][] = [];
    e.onLocalOp((op, before) => {
      // Runs before the op is applied: the snapshot is still the old view.
      expect(e.getSnapshot().byId.get(op.block_id)?.content).toBe(before?.content);
      local.push([op.action, before?.content, op.text_op ?? op.content]);
    });
    e.onRemoteOp((ev, info) => remote.push([ev.client_op_id, info.viewTextOp, info.contentReplaced]));
    const id = e.create({ type: "text", content: "ab" });
    await settle();
    ws.manual = true;
    e.editText(id, [2, "c"]);
    e.editText(id, [3, "d"]);
    expect(local).toEqual([
      ["create", undefined, "ab"],
      ["update", "ab", [2, "c"]],
      ["update", "abc", [3, "d"]],
    ]);
    // Someone inserts at 0 against "ab"; for the view ("abcd") it is still an insert at 0.
    const theirs = uuid();
    server.mutate([
      { client_op_id: theirs, action: "update", block_id: id, base_version: 1, text_op: ["X"] },
    ]);
    ws.deliverOne();
    expect(remote).toEqual([[theirs, ["X"], false]]);
    ws.manual = false;
    await vi.advanceTimersByTimeAsync(100);
    for (const r of ws.requests) r();
    await vi.advanceTimersByTimeAsync(100);
    expect(e.getSnapshot().byId.get(id)?.content).toBe("Xabcd");
    expect(remote).toHaveLength(1); // our own ops' events are not remote
    const setter = uuid();
    server.mutate([
      { client_op_id: setter, action: "update", block_id: id, base_version: 3, content: "fresh" },
    ]);
    await vi.advanceTimersByTimeAsync(10);
    expect(remote.at(-1)).toEqual([setter, null, true]);
    e.stop();
  });

  it("UI-3 close 4404 stops the engine: closed, canvas_deleted, no reconnect, pending kept", async () => {
    const { ws, store, e } = await started({ backoffBaseMs: 100 });
    const id = e.create({ type: "text", content: "kept" });
    await settle();
    ws.manual = true;
    e.update(id, { type: "heading" });
    await settle();
    ws.close("canvas_deleted");
    await settle();
    const s = e.getSnapshot();
    expect(s.connection).toBe("closed");
    expect(s.closedReason).toBe("canvas_deleted");
    const subscribes = ws.subscribes.length;
    e.update(id, { props: { late: true } });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(ws.subscribes).toHaveLength(subscribes);
    expect(store.ops.map((p) => p.op.action)).toEqual(["update", "update"]);
    expect(e.getSnapshot().pendingCount).toBe(2);
    expect(vi.getTimerCount()).toBe(0);
    e.stop();
  });

  it("UI-3 a write refused for lack of the right (turned reader) keeps the canvas live, read-only, ops stored", async () => {
    const { server, ws, store, e } = await started();
    const id = e.create({ type: "text", content: "mine" });
    await settle();
    ws.writeRevoked = true;
    e.update(id, { props: { checked: true } });
    await vi.advanceTimersByTimeAsync(5_000);
    expect(e.getSnapshot()).toMatchObject({ writable: false, connection: "live", closedReason: null });
    expect(store.ops).toHaveLength(1);
    // Nothing retries the refused write...
    const sent = ws.sent.length;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(ws.sent.length).toBe(sent);
    // ...and others' edits still arrive.
    server.mutate([
      { client_op_id: uuid(), action: "update", block_id: id, base_version: 1, content: "theirs" },
    ]);
    await settle();
    expect(e.getSnapshot().byId.get(id)?.content).toBe("theirs");
    e.stop();
  });

  it("UI-3 close 4403 and a closed transport on mutate close the engine as access_removed", async () => {
    const first = await started();
    first.ws.close("access_removed");
    await settle();
    expect(first.e.getSnapshot()).toMatchObject({ connection: "closed", closedReason: "access_removed" });
    first.e.stop();

    const { rest, store, e } = await started({ realtimeMode: "polling" });
    expect(e.getSnapshot().connection).toBe("polling");
    rest.closed = "access_removed";
    e.create({ type: "text", content: "unsent" });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(e.getSnapshot()).toMatchObject({ connection: "closed", closedReason: "access_removed" });
    expect(store.ops).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
    e.stop();
  });

  it("UI-3 text ops pending behind a conflicted-and-dropped op are rebased, not shown or sent misplaced", async () => {
    const { server, ws, e } = await started();
    const id = e.create({ type: "text", content: "abc" });
    await settle();
    ws.manual = true;
    // "# " shortcut style: type and content at once, then typing goes on in the new text.
    e.update(id, { type: "heading", content: "Title" });
    e.editText(id, [5, "!"]);
    expect(e.getSnapshot().byId.get(id)?.content).toBe("Title!");
    server.mutate([{ client_op_id: uuid(), action: "update", block_id: id, base_version: 1, type: "todo" }]);
    ws.manual = false;
    await vi.advanceTimersByTimeAsync(100);
    for (const r of ws.requests) r();
    await vi.advanceTimersByTimeAsync(200);
    expect(e.getSnapshot().conflicts.map((c) => c.fields.map((f) => f.field))).toEqual([["type"]]);
    expect(ws.sent.flat().at(-1)?.text_op).toEqual([3, "!"]);
    expect(server.rows.get(id)?.block.content).toBe("abc!");
    expect(e.getSnapshot().byId.get(id)?.content).toBe("abc!");
    expect(e.getSnapshot().pendingCount).toBe(0);
    e.stop();
  });

  it("UI-4 keystroke batches stale under one foreign replace become one conflict item; mine has them all", async () => {
    const conflicts: OpResult[] = [];
    const { server, ws, e } = await started({ onConflict: (r) => conflicts.push(r), batchWindowMs: 50 });
    const id = e.create({ type: "text", content: "abc" });
    await settle();
    ws.manual = true;
    e.editText(id, [3, "!"]);
    await vi.advanceTimersByTimeAsync(60); // sent (held)
    e.editText(id, [4, "?"]);
    await vi.advanceTimersByTimeAsync(60);
    e.editText(id, [5, "#"]); // three batches, one in flight
    expect(e.getSnapshot().byId.get(id)?.content).toBe("abc!?#");
    server.mutate([
      { client_op_id: uuid(), action: "update", block_id: id, base_version: 1, content: "new" },
    ]);
    ws.deliverOne();
    // The unsent batches were typed on replaced text: not shown any more.
    expect(e.getSnapshot().byId.get(id)?.content).toBe("new!");
    e.editText(id, [">"]); // typed on what is shown now: not stale, not folded
    ws.manual = false;
    for (const r of ws.requests) r();
    await vi.advanceTimersByTimeAsync(200);
    expect(conflicts).toHaveLength(1);
    const items = e.getSnapshot().conflicts;
    expect(items).toHaveLength(1);
    expect(items[0]?.fields).toEqual([{ field: "content", base: "abc", theirs: "new", mine: "abc!?#" }]);
    expect(e.getSnapshot().pendingCount).toBe(0);
    expect(server.rows.get(id)?.block.content).toBe(">new");
    expect(e.getSnapshot().byId.get(id)?.content).toBe(">new");
    e.stop();
  });

  it("UI-3 editText refuses an op that does not fit the shown text (onError), nothing queued or announced", async () => {
    const errors: unknown[] = [];
    const { e } = await started({ onError: (err) => errors.push(err) });
    const id = e.create({ type: "text", content: "abc" });
    await settle();
    const local = vi.fn();
    e.onLocalOp(local);
    e.editText(id, [5, "x"]);
    expect(errors).toHaveLength(1);
    expect(local).not.toHaveBeenCalled();
    expect(e.getSnapshot().pendingCount).toBe(0);
    e.editText(id, [3, "x"]);
    expect(local).toHaveBeenCalledOnce();
    expect(e.getSnapshot().byId.get(id)?.content).toBe("abcx");
    e.stop();
  });

  it("UI-4 deleting a block someone deleted first adds no conflict item (onConflict still fires)", async () => {
    const conflicts: OpResult[] = [];
    const { server, ws, e } = await started({ onConflict: (r) => conflicts.push(r) });
    const id = e.create({ type: "text", content: "x" });
    await settle();
    ws.manual = true;
    e.delete(id);
    server.mutate([{ client_op_id: uuid(), action: "delete", block_id: id, base_version: 1 }]);
    ws.manual = false;
    for (const r of ws.requests) r();
    while (ws.deliverOne());
    await vi.advanceTimersByTimeAsync(100);
    expect(conflicts.map((r) => r.conflict?.reason)).toEqual(["deleted"]);
    expect(e.getSnapshot().conflicts).toEqual([]);
    expect(e.getSnapshot().byId.has(id)).toBe(false);
    e.stop();
  });

  it("UI-3 a create placed next to a block someone just deleted is re-placed, not lost", async () => {
    const errors: unknown[] = [];
    const { server, ws, e } = await started({ onError: (err) => errors.push(err) });
    const a = e.create({ type: "text", content: "A" });
    const b = e.create({ type: "text", content: "B" });
    await settle();
    ws.manual = true;
    const mine = e.create({ type: "text", content: "mine", position: { after: b } });
    const child = e.create({ type: "text", content: "child", parent_id: b, position: { after: mine } });
    server.mutate([{ client_op_id: uuid(), action: "delete", block_id: b, base_version: 1 }]);
    ws.manual = false;
    for (const r of ws.requests) r();
    await vi.advanceTimersByTimeAsync(200);
    while (ws.deliverOne());
    await vi.advanceTimersByTimeAsync(200);
    expect(errors).toEqual([]);
    expect(e.getSnapshot().blocks.map((x) => x.block_id)).toEqual([a, mine, child]);
    expect(server.liveBlocks().map((x) => x.block_id)).toEqual([a, mine, child]);
    expect(server.rows.get(child)?.block.parent_id).toBeNull();
    expect(e.getSnapshot().pendingCount).toBe(0);
    e.stop();
  });

  it("UI-3 failed results with internal / timeout are resent with the same client_op_id", async () => {
    const { ws, server, e } = await started({ backoffBaseMs: 100 });
    const real = ws.mutate.bind(ws);
    const codes = ["internal", "timeout"];
    ws.mutate = (ops) => {
      const code = codes.shift();
      if (!code) return real(ops);
      ws.sent.push(ops);
      return Promise.resolve({
        results: ops.map((o) => ({
          client_op_id: o.client_op_id,
          block_id: o.block_id,
          status: "failed" as const,
          server_seq: null,
          version: null,
          block: null,
          error: { code, message: code },
        })),
      });
    };
    const id = e.create({ type: "text", content: "kept" });
    await vi.advanceTimersByTimeAsync(1000);
    expect(new Set(ws.sent.map((ops) => ops[0]?.client_op_id)).size).toBe(1);
    expect(ws.sent).toHaveLength(3);
    expect(server.rows.get(id)?.block.content).toBe("kept");
    expect(e.getSnapshot().pendingCount).toBe(0);
    e.stop();
  });
});
