import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { SyncEngine } from "./engine";
import { FakeSyncServer, FakeTransport } from "./fakeServer";
import { DEFAULT_LIMITS, Pacer } from "./pacer";
import { createMemoryPendingStore } from "./pendingStore";
import type { Op, PresenceInput } from "./types";

const H1 = DEFAULT_LIMITS.H1.kind === "window" ? DEFAULT_LIMITS.H1 : { max: 0, windowMs: 0 };

/** A socket transport that records when each message left. */
function recordingSocket(server: FakeSyncServer) {
  const ws = new FakeTransport(server, "websocket");
  const at: number[] = [];
  const mutate = ws.mutate.bind(ws);
  const presence = ws.presence.bind(ws);
  ws.mutate = (ops: Op[]) => {
    at.push(Date.now());
    return mutate(ops);
  };
  ws.presence = (input: PresenceInput) => {
    at.push(Date.now());
    return presence(input);
  };
  return { ws, at };
}

describe("the socket's budget, spent by the engine (RT-6: 10 messages/s per socket)", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(0);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("never sends more than the allowed messages in any second, mutations and presence together", async () => {
    const server = new FakeSyncServer();
    const { ws, at } = recordingSocket(server);
    const e = new SyncEngine({
      canvasId: "c",
      store: createMemoryPendingStore(),
      ws,
      rest: new FakeTransport(server, "rest"),
      initial: { blocks: [], server_seq: 0 },
      pacing: new Pacer(),
    });
    await e.start();
    await vi.advanceTimersByTimeAsync(0);
    const ids: string[] = [];
    // A burst of presence with creates in between, for 3 seconds.
    for (let i = 0; i < 60; i++) {
      e.sendPresence({ cursor: { x: i, y: 0 }, block_id: null });
      if (i % 4 === 0) ids.push(e.create({ type: "text", content: `b${i}` }));
      await vi.advanceTimersByTimeAsync(50);
    }
    await vi.advanceTimersByTimeAsync(5_000);
    for (const t of at)
      expect(at.filter((u) => u >= t && u < t + H1.windowMs).length).toBeLessThanOrEqual(H1.max);
    // Nothing is lost: every create is on the server, and the last cursor went out.
    expect(server.liveBlocks().map((b) => b.block_id)).toEqual(ids);
    expect(ws.presences.at(-1)).toEqual({ cursor: { x: 59, y: 0 }, block_id: null });
    // …and the socket is used, not starved: well over half its budget over the busy seconds.
    expect(at.filter((t) => t < 3000).length).toBeGreaterThan(H1.max * 2);
    e.stop();
    expect(vi.getTimerCount()).toBe(0);
  });

  it("RT-7: a presence that waits for the socket's budget is replaced by a newer one, and dropped if the socket goes", async () => {
    const server = new FakeSyncServer();
    const { ws } = recordingSocket(server);
    const pacer = new Pacer({ H1: { kind: "window", max: 2, windowMs: 1000 } });
    const e = new SyncEngine({
      canvasId: "c",
      store: createMemoryPendingStore(),
      ws,
      rest: new FakeTransport(server, "rest"),
      initial: { blocks: [], server_seq: 0 },
      pacing: pacer,
    });
    await e.start();
    await vi.advanceTimersByTimeAsync(0);
    for (let x = 0; x < 5; x++) e.sendPresence({ cursor: { x, y: 0 } });
    expect(ws.presences.map((p) => p.cursor?.x)).toEqual([0, 1]);
    await vi.advanceTimersByTimeAsync(1000);
    // The three that waited went as one: the newest.
    expect(ws.presences.map((p) => p.cursor?.x)).toEqual([0, 1, 4]);
    e.sendPresence({ cursor: { x: 5, y: 0 } });
    e.sendPresence({ cursor: { x: 6, y: 0 } });
    ws.down = true;
    ws.drop();
    await vi.advanceTimersByTimeAsync(2000);
    expect(ws.presences.map((p) => p.cursor?.x)).toEqual([0, 1, 4, 5]);
    e.stop();
    expect(vi.getTimerCount()).toBe(0);
  });
});
