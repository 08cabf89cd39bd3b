import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Pacer } from "../pacer";
import { ClosedError, type SyncEvent, TransientError, WriteRevokedError } from "../types";
import { pacedFetch } from "./pacedFetch";
import { createRestTransport } from "./rest";
import { createWsTransport, type SocketLike } from "./socket";
import { tokenSocketClass } from "./tokenSocket";

/** A fake socket (the test's own server side): records frames, lets the test answer. */
class FakeSocket implements SocketLike {
  static last: FakeSocket | null = null;
  readyState = 0;
  sent: { id: number; method: string; params: { path: string; input: unknown } }[] = [];
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code?: number }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  constructor(
    readonly url: string,
    readonly protocols?: string | string[],
  ) {
    FakeSocket.last = this;
  }
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  close(code = 1000) {
    this.readyState = 3;
    this.onclose?.({ code });
  }
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  reply(frame: unknown) {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
}

const op = {
  type: "op",
  server_seq: 7,
  prev_seq: 6,
  client_op_id: "x",
  user_id: null,
  action: "delete",
  block_id: "b",
  block: null,
  text_op: null,
};

describe("sync transports (UI-3)", () => {
  it("UI-3 / RT-2: the socket speaks tRPC's wire protocol (subscription, tracked data, mutation)", async () => {
    const t = createWsTransport({
      url: "ws://h/ws/canvas/c?token=t",
      WebSocket: FakeSocket,
      snapshot: vi.fn(),
    });
    const events: SyncEvent[] = [];
    const onOpen = vi.fn();
    const onClose = vi.fn();
    const unsub = t.subscribe(6, { onEvent: (e) => events.push(e), onOpen, onClose });
    const ws = FakeSocket.last as FakeSocket;
    ws.open();
    const sub = ws.sent[0];
    expect(sub).toMatchObject({
      method: "subscription",
      params: { path: "sync.events", input: { since_seq: 6 } },
    });
    ws.reply({ id: sub?.id, result: { type: "started" } });
    expect(onOpen).toHaveBeenCalledOnce();
    ws.reply({ id: sub?.id, result: { type: "data", id: "7", data: { id: "7", data: op } } });
    ws.reply({ id: sub?.id, result: { type: "data", data: { type: "resync" } } });
    expect(events).toEqual([op, { type: "resync" }]);
    const answer = t.mutate([]);
    const call = ws.sent[1];
    expect(call).toMatchObject({ method: "mutation", params: { path: "sync.mutate", input: { ops: [] } } });
    ws.reply({ id: call?.id, result: { type: "data", data: { results: [] } } });
    await expect(answer).resolves.toEqual({ results: [] });
    const limited = t.mutate([]);
    ws.reply({ id: ws.sent[2]?.id, error: { message: "slow down", data: { code: "TOO_MANY_REQUESTS" } } });
    await expect(limited).rejects.toBeInstanceOf(TransientError);
    const expired = t.mutate([]);
    ws.reply({ id: ws.sent[3]?.id, error: { message: "expired", data: { code: "UNAUTHORIZED" } } });
    await expect(expired).rejects.toBeInstanceOf(TransientError);
    const bad = t.mutate([]);
    ws.reply({ id: ws.sent[4]?.id, error: { message: "bad", data: { code: "BAD_REQUEST" } } });
    await expect(bad).rejects.not.toBeInstanceOf(TransientError);
    const lost = t.mutate([]);
    ws.close(1001);
    await expect(lost).rejects.toBeInstanceOf(TransientError);
    expect(onClose).toHaveBeenCalledOnce();
    unsub();
    await expect(t.mutate([])).rejects.toBeInstanceOf(TransientError);
  });

  it("UI-3 / H2 / H4: REST mutate and polling with since_seq; 429 and network errors are transient", async () => {
    vi.useFakeTimers();
    const calls: string[] = [];
    let seq = 3;
    const fetch = vi.fn(async (url: string, init?: RequestInit) => {
      calls.push(`${init?.method ?? "GET"} ${url}`);
      if (url.endsWith("/mutate")) {
        return calls.length > 1 ? new Response("", { status: 429 }) : Response.json({ results: [] });
      }
      const since = Number(new URL(url).searchParams.get("since_seq"));
      const events = since < seq ? [{ ...op, server_seq: seq, prev_seq: since }] : [];
      return Response.json({ mode: "replay", events, server_seq: seq });
    });
    const t = createRestTransport({
      baseUrl: "http://h",
      canvasId: "c",
      getToken: () => "tok",
      fetch,
      pollIntervalMs: 2000,
    });
    await expect(t.mutate([])).resolves.toEqual({ results: [] });
    await expect(t.mutate([])).rejects.toMatchObject({ code: "rate_limited" });
    const events: SyncEvent[] = [];
    const onOpen = vi.fn();
    const stop = t.subscribe(2, { onEvent: (e) => events.push(e), onOpen });
    await vi.advanceTimersByTimeAsync(0);
    expect(onOpen).toHaveBeenCalledOnce();
    seq = 4;
    await vi.advanceTimersByTimeAsync(2000);
    expect(events.map((e) => (e as typeof op).server_seq)).toEqual([3, 4]);
    expect(calls.filter((c) => c.includes("snapshot"))).toEqual([
      "GET http://h/api/v1/canvas/c/snapshot?since_seq=2",
      "GET http://h/api/v1/canvas/c/snapshot?since_seq=3",
    ]);
    expect(fetch.mock.calls[0]?.[1]?.headers).toMatchObject({ authorization: "Bearer tok" });
    stop();
    expect(vi.getTimerCount()).toBe(0);
    const down = createRestTransport({
      baseUrl: "",
      canvasId: "c",
      getToken: () => "t",
      fetch: () => Promise.reject(new Error("offline")),
    });
    await expect(down.snapshot()).rejects.toBeInstanceOf(TransientError);
    vi.useRealTimers();
  });

  it("RT-7: presence goes as the sync.presence mutation on the socket and as H3 over REST", async () => {
    const t = createWsTransport({ url: "ws://h/ws/canvas/c", WebSocket: FakeSocket, snapshot: vi.fn() });
    await expect(t.presence({ typing: true })).rejects.toBeInstanceOf(TransientError); // no socket yet
    t.subscribe(0, { onEvent: () => {} });
    const ws = FakeSocket.last as FakeSocket;
    ws.open();
    const sent = t.presence({ cursor: { x: 1, y: 2 }, block_id: null, typing: false });
    const call = ws.sent[1];
    expect(call).toMatchObject({
      method: "mutation",
      params: { path: "sync.presence", input: { cursor: { x: 1, y: 2 }, block_id: null, typing: false } },
    });
    ws.reply({ id: call?.id, result: { type: "data", data: { ok: true } } });
    await expect(sent).resolves.toBeUndefined();

    const calls: { url: string; init?: RequestInit }[] = [];
    const rest = createRestTransport({
      baseUrl: "http://h",
      canvasId: "c",
      getToken: () => "tok",
      fetch: async (url, init) => {
        calls.push({ url, init });
        return Response.json({ ok: true });
      },
    });
    await rest.presence({ typing: true });
    expect(calls[0]?.url).toBe("http://h/api/v1/canvas/c/presence");
    expect(calls[0]?.init?.method).toBe("POST");
    expect(JSON.parse(String(calls[0]?.init?.body))).toEqual({ typing: true });
  });

  it("UI-3: close 4403 / 4404 and REST 403 / 404 are ClosedError; a refused write (REST 403, FORBIDDEN) is WriteRevokedError", async () => {
    const t = createWsTransport({ url: "ws://h/ws/canvas/c", WebSocket: FakeSocket, snapshot: vi.fn() });
    for (const [code, reason] of [
      [4403, "access_removed"],
      [4404, "canvas_deleted"],
    ] as const) {
      const onClose = vi.fn();
      t.subscribe(0, { onEvent: () => {}, onClose });
      const ws = FakeSocket.last as FakeSocket;
      ws.open();
      ws.close(code);
      expect(onClose).toHaveBeenCalledOnce();
      const error = onClose.mock.calls[0]?.[0];
      expect(error).toBeInstanceOf(ClosedError);
      expect(error).toMatchObject({ reason });
    }
    const onClose = vi.fn();
    t.subscribe(0, { onEvent: () => {}, onClose });
    const ws = FakeSocket.last as FakeSocket;
    ws.open();
    ws.close(1011);
    expect(onClose.mock.calls[0]?.[0]).toBeInstanceOf(TransientError);
    t.subscribe(0, { onEvent: () => {} });
    const ws2 = FakeSocket.last as FakeSocket;
    ws2.open();
    const forbidden = t.mutate([]);
    ws2.reply({ id: ws2.sent[1]?.id, error: { message: "no", data: { code: "FORBIDDEN" } } });
    await expect(forbidden).rejects.toBeInstanceOf(WriteRevokedError);

    const restWith = (status: number) =>
      createRestTransport({
        baseUrl: "",
        canvasId: "c",
        getToken: () => "t",
        fetch: async () => new Response("{}", { status }),
      });
    await expect(restWith(403).mutate([])).rejects.toBeInstanceOf(WriteRevokedError);
    await expect(restWith(403).snapshot()).rejects.toMatchObject({
      name: "ClosedError",
      reason: "access_removed",
    });
    await expect(restWith(404).mutate([])).rejects.toMatchObject({
      name: "ClosedError",
      reason: "canvas_deleted",
    });
    await expect(restWith(404).snapshot()).rejects.toBeInstanceOf(ClosedError);
  });
});

describe("the socket's unanswered mutations (UI-3)", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("turns a mutation the server never answers into a retryable error", async () => {
    const t = createWsTransport({
      url: "ws://h/ws/canvas/c",
      WebSocket: FakeSocket,
      snapshot: vi.fn(),
      mutationTimeoutMs: 10_000,
    });
    t.subscribe(0, { onEvent: () => {} });
    const ws = FakeSocket.last as FakeSocket;
    ws.open();
    const result = t.mutate([]).then(
      () => "answered",
      (e: unknown) => e,
    );
    await vi.advanceTimersByTimeAsync(9_999);
    ws.reply({ id: 999, result: { type: "data", data: { results: [] } } }); // someone else's answer
    await vi.advanceTimersByTimeAsync(2);
    const error = await result;
    expect(error).toBeInstanceOf(TransientError);
    // The answer that comes too late finds no call; an answered mutation leaves no timer behind.
    ws.reply({ id: ws.sent[1]?.id, result: { type: "data", data: { results: [] } } });
    const answered = t.mutate([]);
    ws.reply({ id: ws.sent[2]?.id, result: { type: "data", data: { results: [] } } });
    await expect(answered).resolves.toEqual({ results: [] });
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe("pacedFetch (SPEC §5 per-user REST limits)", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(0);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("spaces H4 snapshots (polls) at least a second apart, without holding up mutations", async () => {
    const calls: { url: string; at: number }[] = [];
    const fetch = pacedFetch(new Pacer(), async (url) => {
      calls.push({ url, at: Date.now() });
      return new Response("{}");
    });
    const done = Promise.all([
      fetch("/api/v1/canvas/c/snapshot?since_seq=1"),
      fetch("/api/v1/canvas/c/snapshot?since_seq=2"),
      fetch("/api/v1/canvas/c/mutate", { method: "POST" }),
      fetch("/api/v1/canvas/c/snapshot?since_seq=3"),
    ]);
    await vi.advanceTimersByTimeAsync(5000);
    await done;
    const snaps = calls.filter((c) => c.url.includes("/snapshot")).map((c) => c.at);
    expect(snaps).toHaveLength(3);
    expect((snaps[1] as number) - (snaps[0] as number)).toBeGreaterThanOrEqual(1000);
    expect((snaps[2] as number) - (snaps[1] as number)).toBeGreaterThanOrEqual(1000);
    expect(calls.find((c) => c.url.endsWith("/mutate"))?.at).toBe(0);
  });

  it("H3: presence posts go at most 4 a second; other routes are not held", async () => {
    const calls: { url: string; at: number }[] = [];
    const fetch = pacedFetch(new Pacer(), async (url) => {
      calls.push({ url, at: Date.now() });
      return new Response("{}");
    });
    const done = Promise.all([
      ...Array.from({ length: 10 }, () => fetch("/api/v1/canvas/c/presence", { method: "POST" })),
      fetch("/api/v1/canvas/c/permissions"),
    ]);
    await vi.advanceTimersByTimeAsync(5000);
    await done;
    const presence = calls.filter((c) => c.url.endsWith("/presence")).map((c) => c.at);
    expect(presence).toHaveLength(10);
    for (const t of presence)
      expect(presence.filter((u) => u >= t && u < t + 1000).length).toBeLessThanOrEqual(4);
    expect(calls.find((c) => c.url.endsWith("/permissions"))?.at).toBe(0);
  });
});

describe("tokenSocketClass (AUTH-2: a fresh token on every connect)", () => {
  class BrowserSocket {
    static made: BrowserSocket[] = [];
    readyState = 0;
    onopen: ((ev: unknown) => void) | null = null;
    onmessage: ((ev: { data: unknown }) => void) | null = null;
    onclose: ((ev: { code: number }) => void) | null = null;
    onerror: ((ev: unknown) => void) | null = null;
    constructor(readonly url: string) {
      BrowserSocket.made.push(this);
    }
    send() {}
    close(code = 1000) {
      this.onclose?.({ code });
    }
  }
  beforeEach(() => {
    BrowserSocket.made = [];
    vi.stubGlobal("WebSocket", BrowserSocket);
  });
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it("UI-3: each socket asks for the token when it is built; no token closes it as 4401; closed first, it never connects", async () => {
    let n = 0;
    const Socket = tokenSocketClass(async () => `t${++n}`);
    const first = new Socket("ws://h/ws/canvas/c?token=old");
    const second = new Socket("ws://h/ws/canvas/c");
    await Promise.resolve();
    expect(BrowserSocket.made.map((s) => new URL(s.url).searchParams.get("token"))).toEqual(["t1", "t2"]);
    const codes: (number | undefined)[] = [];
    first.onclose = (ev) => codes.push(ev.code);
    BrowserSocket.made[0]?.close(4401);
    expect(codes).toEqual([4401]);
    expect(second.readyState).toBe(0);

    const Refused = tokenSocketClass(() => Promise.reject(new Error("signed out")));
    const refused = new Refused("ws://h/ws/canvas/c");
    refused.onclose = (ev) => codes.push(ev.code);
    await Promise.resolve();
    await Promise.resolve();
    expect(codes).toEqual([4401, 4401]);
    expect(refused.readyState).toBe(3);

    const early = new Socket("ws://h/ws/canvas/c");
    early.onclose = (ev) => codes.push(ev.code);
    early.close(1000);
    await Promise.resolve();
    await Promise.resolve();
    expect(codes).toEqual([4401, 4401, 1000]);
    expect(BrowserSocket.made).toHaveLength(2);
  });
});
