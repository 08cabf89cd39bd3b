import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
// The fake server and transports are these tests' own in-process simulation of the server.
import { FakeSyncServer, FakeTransport } from "./fakeSyncServer";
import { createMemoryPendingStore } from "./pendingStore";
import { SyncEngine } from "./sync";
import { type NetworkStatus, SyncConnection } from "./syncConnection";
import type { ConnectionState } from "./syncOptions";

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
});
