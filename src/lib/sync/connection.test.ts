import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { SyncConnection } from "./connection";
import type { ConnectionState } from "./connectionState";
import { SyncEngine } from "./engine";
// The fake server and transports are these tests' own in-process simulation of the server.
import { FakeSyncServer, FakeTransport } from "./fakeServer";
import type { NetworkStatus } from "./network";
import { createMemoryPendingStore } from "./pendingStore";
import type { SubscribeHandlers, SyncTransport } from "./types";
import { TransientError } from "./types";

/** navigator.onLine and the online/offline events, scripted. */
function scriptedNetwork(initial = true) {
  let online = initial;
  const listeners = new Set<() => void>();
  const status: NetworkStatus = {
    online: () => online,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  return {
    status,
    listeners,
    set(next: boolean) {
      online = next;
      for (const l of [...listeners]) l();
    },
  };
}

const BACKOFF_MAX_MS = 30_000;

/**
 * A stream-only transport whose subscriptions the test sees: `open` are the started ones; `up`
 * decides whether the next one starts or fails. `late` keeps the handlers of subscriptions that
 * were given up, to play a transport that answers after it was told to stop.
 */
class ScriptedStreams implements SyncTransport {
  up = true;
  open = new Set<SubscribeHandlers>();
  attempts = 0;
  late: SubscribeHandlers[] = [];
  /** What the connection threw back into the transport's callbacks (a refused transition). */
  errors: unknown[] = [];
  constructor(readonly kind: "websocket" | "rest") {}
  private safely(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.errors.push(error);
    }
  }
  mutate = async () => ({ results: [] });
  snapshot = async () => ({ mode: "replay" as const, events: [], server_seq: 0 });
  presence = async () => {};
  subscribe(_since: number, h: SubscribeHandlers): () => void {
    this.attempts++;
    let given = false;
    queueMicrotask(() => {
      if (given) return;
      if (this.up) {
        this.open.add(h);
        this.safely(() => h.onOpen?.());
      } else this.safely(() => h.onClose?.(new TransientError("down")));
    });
    return () => {
      given = true;
      this.late.push(h);
      this.open.delete(h);
    };
  }
  drop(): void {
    for (const h of [...this.open]) {
      this.open.delete(h);
      this.safely(() => h.onClose?.(new TransientError("dropped")));
    }
  }
}

function setup(extra: { maxSocketFailures?: number; socketRetryMs?: number } = {}) {
  const server = new FakeSyncServer();
  const ws = new FakeTransport(server, "websocket");
  const rest = new FakeTransport(server, "rest");
  const net = scriptedNetwork();
  const states: ConnectionState[] = [];
  const conn = new SyncConnection({
    ws,
    rest,
    mode: "websocket",
    maxSocketFailures: extra.maxSocketFailures ?? 3,
    socketRetryMs: extra.socketRetryMs ?? 30_000,
    network: net.status,
    seq: () => server.lastSeq,
    onEvent: () => {},
    onState: (s) => states.push(s),
    onClosed: () => {},
    later: (fn, ms) => void setTimeout(fn, ms),
    backoff: (attempt) => Math.min(BACKOFF_MAX_MS, 500 * 2 ** attempt),
  });
  return { server, ws, rest, net, states, conn };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("SyncConnection: the connection badge's states (UI-3)", () => {
  it("UI-3: losing the network says Offline at once, closes the socket and attempts nothing until it returns", async () => {
    const { server, ws, rest, net, conn } = setup();
    conn.connect();
    await vi.advanceTimersByTimeAsync(0);
    expect(conn.state).toBe("live");
    expect(server.subscribers.size).toBe(1);

    net.set(false);
    expect(conn.state).toBe("offline");
    // The socket is given up (the server drops our presence once it sees it go).
    expect(server.subscribers.size).toBe(0);
    const attempts = ws.subscribes.length + rest.subscribes.length;
    await vi.advanceTimersByTimeAsync(120_000);
    expect(ws.subscribes.length + rest.subscribes.length).toBe(attempts);
    expect(conn.state).toBe("offline");
    conn.stop();
  });

  it("UI-3: when the network returns the socket is tried at once, whatever backoff had built up", async () => {
    const { ws, rest, net, states, conn } = setup();
    conn.connect();
    await vi.advanceTimersByTimeAsync(0);
    // The server is unreachable for a while: the retries back off towards 30 s.
    ws.down = true;
    rest.down = true;
    ws.drop();
    await vi.advanceTimersByTimeAsync(120_000);
    expect(conn.state).toBe("offline");
    net.set(false);
    ws.down = false;
    rest.down = false;
    net.set(true);
    expect(states.at(-1)).toBe("reconnecting");
    await vi.advanceTimersByTimeAsync(0);
    expect(conn.state).toBe("live");
    conn.stop();
  });

  it("UI-3: a failed reconnect attempt says Offline, and a failed poll is never Polling", async () => {
    const { ws, rest, states, conn } = setup({ maxSocketFailures: 2 });
    conn.connect();
    await vi.advanceTimersByTimeAsync(0);
    expect(conn.state).toBe("live");
    ws.down = true;
    rest.down = true;
    states.length = 0;
    ws.drop();
    // The stream that worked is lost: one attempt to get it back…
    expect(conn.state).toBe("reconnecting");
    // … fails: from then on the badge says Offline while every attempt (socket, then H4) fails.
    await vi.advanceTimersByTimeAsync(500);
    expect(conn.state).toBe("offline");
    await vi.advanceTimersByTimeAsync(60_000);
    expect(rest.subscribes.length).toBeGreaterThan(0);
    expect(new Set(states)).toEqual(new Set(["reconnecting", "offline"]));
    // REST answers again: polling, for real this time.
    rest.down = false;
    await vi.advanceTimersByTimeAsync(BACKOFF_MAX_MS);
    expect(conn.state).toBe("polling");
    conn.stop();
  });

  it("UI-3: an online event while a stream works changes nothing; stop() stops listening to the network", async () => {
    const { ws, net, conn } = setup();
    conn.connect();
    await vi.advanceTimersByTimeAsync(0);
    const subscribes = ws.subscribes.length;
    net.set(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(ws.subscribes.length).toBe(subscribes);
    expect(conn.state).toBe("live");
    expect(net.listeners.size).toBe(1);
    conn.stop();
    conn.stop();
    expect(net.listeners.size).toBe(0);
    net.set(false);
    net.set(true);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(ws.subscribes.length).toBe(subscribes);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("UI-3: started without a network, the engine says Offline, keeps edits, and sends them as soon as it returns", async () => {
    const server = new FakeSyncServer();
    const ws = new FakeTransport(server, "websocket");
    const rest = new FakeTransport(server, "rest");
    const net = scriptedNetwork(false);
    const e = new SyncEngine({
      pacing: false,
      canvasId: "c",
      store: createMemoryPendingStore(),
      ws,
      rest,
      network: net.status,
      initial: { blocks: [], server_seq: 0 },
    });
    await e.start();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(e.getSnapshot().connection).toBe("offline");
    const id = e.create({ type: "text", content: "made offline" });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(ws.subscribes).toEqual([]);
    expect(e.getSnapshot()).toMatchObject({ connection: "offline", pendingCount: 1 });

    net.set(true);
    await vi.advanceTimersByTimeAsync(10);
    expect(e.getSnapshot()).toMatchObject({ connection: "live", pendingCount: 0 });
    expect(server.rows.get(id)?.block.content).toBe("made offline");
    e.stop();
    expect(vi.getTimerCount()).toBe(0);
  });

  it("UI-3: a snapshot that failed while offline is fetched again as soon as the network returns, not after its backoff", async () => {
    const server = new FakeSyncServer();
    const ws = new FakeTransport(server, "websocket");
    const rest = new FakeTransport(server, "rest");
    const net = scriptedNetwork(false);
    rest.down = true;
    const e = new SyncEngine({
      pacing: false,
      canvasId: "c",
      store: createMemoryPendingStore(),
      ws,
      rest,
      network: net.status,
      backoffBaseMs: 20_000,
    });
    await e.start();
    expect(rest.snapshots).toHaveLength(1);
    expect(e.getSnapshot().connection).toBe("offline");
    rest.down = false;
    net.set(true);
    await vi.advanceTimersByTimeAsync(10);
    expect(rest.snapshots).toHaveLength(2);
    expect(e.getSnapshot().connection).toBe("live");
    e.stop();
    expect(vi.getTimerCount()).toBe(0);
  });

  it("UI-3: a socket that opens after the connection gave up on it changes nothing", async () => {
    const ws = new ScriptedStreams("websocket");
    const rest = new ScriptedStreams("rest");
    const net = scriptedNetwork();
    const conn = new SyncConnection({
      ws,
      rest,
      mode: "websocket",
      maxSocketFailures: 3,
      socketRetryMs: 30_000,
      network: net.status,
      seq: () => 0,
      onEvent: () => {},
      onState: () => {},
      onClosed: () => {},
      later: (fn, ms) => void setTimeout(fn, ms),
      backoff: () => 500,
    });
    conn.connect();
    net.set(false);
    expect(conn.state).toBe("offline");
    // The attempt was given up when the network went; its transport answers anyway.
    expect(ws.late).toHaveLength(1);
    ws.late[0]?.onOpen?.();
    expect(conn.state).toBe("offline");
    expect(conn.link.name).toBe("offline");
    conn.stop();
  });
});

describe("SyncConnection under random failures (UI-3)", () => {
  type Step =
    | { k: "net"; on: boolean }
    | { k: "ws"; up: boolean }
    | { k: "rest"; up: boolean }
    | { k: "drop" }
    | { k: "wait"; ms: number }
    | { k: "mode"; mode: "websocket" | "polling" }
    | { k: "refresh" }
    | { k: "connect" };
  const step: fc.Arbitrary<Step> = fc.oneof(
    fc.record({ k: fc.constant("net" as const), on: fc.boolean() }),
    fc.record({ k: fc.constant("ws" as const), up: fc.boolean() }),
    fc.record({ k: fc.constant("rest" as const), up: fc.boolean() }),
    fc.record({ k: fc.constant("drop" as const) }),
    fc.record({ k: fc.constant("wait" as const), ms: fc.constantFrom(0, 100, 500, 2_000, 10_000, 40_000) }),
    fc.record({
      k: fc.constant("mode" as const),
      mode: fc.constantFrom("websocket" as const, "polling" as const),
    }),
    fc.record({ k: fc.constant("refresh" as const) }),
    fc.record({ k: fc.constant("connect" as const) }),
  );

  it("UI-3: whatever happens, no refused transition, at most one stream, the badge matches the streams, and it ends live or polling once things work", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 30 }), async (steps) => {
        const ws = new ScriptedStreams("websocket");
        const rest = new ScriptedStreams("rest");
        const net = scriptedNetwork();
        let mode: "websocket" | "polling" = "websocket";
        const errors: unknown[] = [];
        const reported: ConnectionState[] = [];
        const conn = new SyncConnection({
          ws,
          rest,
          mode,
          maxSocketFailures: 2,
          socketRetryMs: 5_000,
          network: net.status,
          seq: () => 0,
          onEvent: () => {},
          onState: (s) => reported.push(s),
          onClosed: () => {},
          later: (fn, ms) =>
            void setTimeout(() => {
              try {
                fn();
              } catch (error) {
                errors.push(error);
              }
            }, ms),
          backoff: (attempt) => Math.min(4_000, 100 * 2 ** attempt),
        });
        const guarded = (fn: () => void) => {
          try {
            fn();
          } catch (error) {
            errors.push(error);
          }
        };
        const check = () => {
          const open = ws.open.size + rest.open.size;
          expect(open).toBeLessThanOrEqual(1);
          if (!net.status.online()) {
            expect(conn.state).toBe("offline");
            expect(open).toBe(0);
          }
          if (conn.link.name === "live") expect(ws.open.size).toBe(1);
          if (conn.link.name === "polling") expect(rest.open.size).toBe(1);
          // The engine is told what the badge says.
          if (reported.length > 0) expect(reported.at(-1)).toBe(conn.state);
        };
        guarded(() => conn.connect());
        for (const s of steps) {
          guarded(() => {
            if (s.k === "net") net.set(s.on);
            else if (s.k === "ws") ws.up = s.up;
            else if (s.k === "rest") rest.up = s.up;
            else if (s.k === "drop") ws.drop();
            else if (s.k === "mode") {
              mode = s.mode;
              conn.setMode(s.mode);
            } else if (s.k === "refresh") conn.refresh();
            else if (s.k === "connect") conn.connect();
          });
          await vi.advanceTimersByTimeAsync(s.k === "wait" ? s.ms : 0);
          check();
        }
        // Network, socket and REST all work again: within the longest backoff and a probe, the
        // connection is back on the stream its mode wants.
        net.set(true);
        ws.up = true;
        rest.up = true;
        await vi.advanceTimersByTimeAsync(10_000);
        check();
        expect([...errors, ...ws.errors, ...rest.errors]).toEqual([]);
        expect(conn.state).toBe(mode === "websocket" ? "live" : "polling");
        const attempts = ws.attempts + rest.attempts;
        conn.stop();
        await vi.advanceTimersByTimeAsync(60_000);
        expect(ws.open.size + rest.open.size).toBe(0);
        expect(ws.attempts + rest.attempts).toBe(attempts);
        expect(net.listeners.size).toBe(0);
        expect(vi.getTimerCount()).toBe(0);
      }),
      { numRuns: 200 },
    );
  });
});
