"use client";

import { useEffect, useState, useSyncExternalStore } from "react";
import { createLocalStoragePendingStore } from "./pendingStore";
import { SyncEngine, type SyncEngineOptions, type SyncState } from "./sync";
import { browserNetworkStatus } from "./syncConnection";
import { createRestTransport, createWsTransport, type SocketLike } from "./syncTransport";
import { type BlockJson, type SyncTransport, TransientError } from "./syncTypes";

/** What A1 told us about the canvas's stream. */
export interface RealtimeInfo {
  mode: "websocket" | "polling";
  ws_url: string;
  poll_interval_ms: number;
}

export interface UseSyncEngineArgs {
  canvasId: string;
  /** The signed-in user: unsent ops are stored per user (see createLocalStoragePendingStore). */
  userId: string;
  initial: { blocks: BlockJson[]; server_seq: number };
  realtime: RealtimeInfo;
  getToken: () => Promise<string>;
  onConflict?: SyncEngineOptions["onConflict"];
  onError?: SyncEngineOptions["onError"];
  onOtherEvent?: SyncEngineOptions["onOtherEvent"];
}

/**
 * A socket that fetches a fresh access token before it connects: the transport builds a socket
 * synchronously on every reconnect, and a token expiry closes the socket (4401), so the token in
 * a fixed URL would be stale by the second connect.
 */
function tokenSocketClass(getToken: () => Promise<string>) {
  return class TokenSocket implements SocketLike {
    onopen: SocketLike["onopen"] = null;
    onmessage: SocketLike["onmessage"] = null;
    onclose: SocketLike["onclose"] = null;
    onerror: SocketLike["onerror"] = null;
    private real: WebSocket | null = null;
    private closed = false;

    constructor(url: string, protocols?: string | string[]) {
      getToken().then(
        (token) => {
          if (this.closed) return;
          const u = new URL(url);
          u.searchParams.set("token", token);
          const ws = new WebSocket(u.toString(), protocols);
          this.real = ws;
          ws.onopen = (ev) => this.onopen?.(ev);
          ws.onmessage = (ev) => this.onmessage?.({ data: ev.data });
          ws.onerror = (ev) => this.onerror?.(ev);
          ws.onclose = (ev) => this.onclose?.({ code: ev.code });
        },
        () => {
          if (this.closed) return;
          this.closed = true;
          this.onclose?.({ code: 4401 });
        },
      );
    }

    get readyState(): number {
      if (this.real) return this.real.readyState;
      return this.closed ? 3 : 0;
    }

    send(data: string): void {
      this.real?.send(data);
    }

    close(code?: number, reason?: string): void {
      if (this.real) {
        this.real.close(code, reason);
        return;
      }
      if (this.closed) return;
      this.closed = true;
      queueMicrotask(() => this.onclose?.({ code: code ?? 1000 }));
    }
  };
}

/** RT-6 allows 10 messages per second per socket; stay under it with room for the subscribe. */
const SOCKET_MESSAGES_PER_SECOND = 8;
/** A mutation left unanswered (a lost frame, a stalled server) is retried after this (same client_op_ids, MUT-3). */
const MUTATION_TIMEOUT_MS = 10_000;

/**
 * A gate letting at most `max` calls start in any `windowMs`, in call order. The server's limits
 * are fixed windows; a sliding window of the same size never puts more than `max` in one of them.
 */
export function createPacer(max: number, windowMs: number): () => Promise<void> {
  const started: number[] = [];
  let chain: Promise<void> = Promise.resolve();
  return () => {
    const next = chain.then(async () => {
      for (;;) {
        const now = Date.now();
        while (started.length > 0 && now - (started[0] as number) >= windowMs) started.shift();
        if (started.length < max) {
          started.push(now);
          return;
        }
        await new Promise((r) => setTimeout(r, windowMs - (now - (started[0] as number)) + 5));
      }
    });
    chain = next;
    return next;
  };
}

type Fetch = (url: string, init?: RequestInit) => Promise<Response>;

/**
 * The REST transport's fetch, paced under the API's per-user limits (SPEC §5): H4 snapshots and
 * polls 1/s (with margin: a poll right after our own write would otherwise be the second in its
 * second and come back 429), H2 10/s, H3 5/s. Pacing here covers the transport's own polling
 * loop too, which calls its snapshot directly.
 */
export function pacedFetch(inner: Fetch = (url, init) => globalThis.fetch(url, init)): Fetch {
  const snapshot = createPacer(1, 1200);
  const mutate = createPacer(8, 1000);
  const presence = createPacer(4, 1000);
  return async (url, init) => {
    const path = url.split("?")[0] ?? url;
    if (path.endsWith("/snapshot")) await snapshot();
    else if (path.endsWith("/mutate")) await mutate();
    else if (path.endsWith("/presence")) await presence();
    return inner(url, init);
  };
}

/**
 * Paces the socket's mutations and presence under RT-6's per-socket limit, and turns a mutation
 * left unanswered into a TransientError so the engine retries it rather than waiting forever
 * with its batch in flight. A retried batch is byte-identical, so the server de-duplicates it
 * (MUT-3).
 */
export function pacedSocketTransport(
  inner: SyncTransport,
  perSecond = SOCKET_MESSAGES_PER_SECOND,
  timeoutMs = MUTATION_TIMEOUT_MS,
): SyncTransport {
  const slot = createPacer(perSecond, 1000);
  return {
    kind: inner.kind,
    snapshot: (since) => inner.snapshot(since),
    subscribe: (since, handlers) => inner.subscribe(since, handlers),
    async mutate(ops) {
      await slot();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new TransientError("no answer from the socket", "rate_limited")),
          timeoutMs,
        );
      });
      try {
        return await Promise.race([inner.mutate(ops), timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    async presence(input) {
      await slot();
      return inner.presence(input);
    },
  };
}

interface Entry {
  engine: SyncEngine;
  refs: number;
  stopTimer?: ReturnType<typeof setTimeout>;
}

// One engine per canvas in the page. React strict mode mounts, unmounts and remounts an effect at
// once: the release waits a tick so the remount picks up the same engine instead of a second one
// (two engines would each resend the same durable queue).
const engines = new Map<string, Entry>();

/** Callbacks are read through this holder so a re-render never needs a new engine. */
interface Handlers {
  current: Pick<UseSyncEngineArgs, "getToken" | "onConflict" | "onError" | "onOtherEvent">;
}

function acquire(args: UseSyncEngineArgs, handlers: Handlers): SyncEngine {
  const existing = engines.get(args.canvasId);
  if (existing) {
    if (existing.stopTimer !== undefined) clearTimeout(existing.stopTimer);
    existing.stopTimer = undefined;
    existing.refs++;
    return existing.engine;
  }
  const getToken = () => handlers.current.getToken();
  const rest = createRestTransport({
    baseUrl: "",
    canvasId: args.canvasId,
    getToken,
    pollIntervalMs: args.realtime.poll_interval_ms,
    fetch: pacedFetch(),
  });
  const ws =
    typeof WebSocket === "undefined"
      ? undefined
      : pacedSocketTransport(
          createWsTransport({
            url: args.realtime.ws_url,
            WebSocket: tokenSocketClass(getToken),
            snapshot: (since) => rest.snapshot(since),
          }),
        );
  const engine = new SyncEngine({
    canvasId: args.canvasId,
    store: createLocalStoragePendingStore(args.canvasId, args.userId),
    rest,
    ...(ws ? { ws } : {}),
    realtimeMode: args.realtime.mode,
    // UI-3: "Offline" as soon as the browser loses the network, and a reconnect at once when it is back.
    network: browserNetworkStatus(),
    initial: args.initial,
    onConflict: (r, op) => handlers.current.onConflict?.(r, op),
    onError: (e, op) => handlers.current.onError?.(e, op),
    onOtherEvent: (e) => handlers.current.onOtherEvent?.(e),
  });
  engines.set(args.canvasId, { engine, refs: 1 });
  void engine.start();
  return engine;
}

function release(canvasId: string, engine: SyncEngine): void {
  const entry = engines.get(canvasId);
  if (!entry || entry.engine !== engine) return;
  entry.refs--;
  if (entry.refs > 0) return;
  entry.stopTimer = setTimeout(() => {
    if (entry.refs > 0) return;
    engine.flush();
    engine.stop();
    engines.delete(canvasId);
  }, 0);
}

const emptyState: SyncState = {
  blocks: [],
  byId: new Map(),
  serverSeq: 0,
  connection: "offline",
  pendingCount: 0,
  conflicts: [],
  closedReason: null,
  writable: true,
};
const noopSubscribe = () => () => {};
const emptySnapshot = () => emptyState;

/**
 * The canvas's SyncEngine and its state (useSyncExternalStore). The engine is null until the
 * first effect ran (the server render has none). Pending keystrokes are flushed when the window
 * loses focus or the page is hidden.
 */
export function useSyncEngine(args: UseSyncEngineArgs): { engine: SyncEngine | null; state: SyncState } {
  const [handlers] = useState<Handlers>(() => ({ current: args }));
  handlers.current = args;
  const [engine, setEngine] = useState<SyncEngine | null>(null);
  const { canvasId } = args;

  // biome-ignore lint/correctness/useExhaustiveDependencies: A1's data seeds the engine once per canvas.
  useEffect(() => {
    const e = acquire(args, handlers);
    setEngine(e);
    const flush = () => e.flush();
    const onVisibility = () => {
      if (document.visibilityState === "hidden") e.flush();
    };
    window.addEventListener("blur", flush);
    window.addEventListener("pagehide", flush);
    document.addEventListener("visibilitychange", onVisibility);
    return () => {
      window.removeEventListener("blur", flush);
      window.removeEventListener("pagehide", flush);
      document.removeEventListener("visibilitychange", onVisibility);
      release(canvasId, e);
    };
  }, [canvasId]);

  // A1 may be reloaded with another mode (OPS-6 switched the canvas): follow it.
  useEffect(() => {
    engine?.setRealtimeMode(args.realtime.mode);
  }, [engine, args.realtime.mode]);

  const state = useSyncExternalStore(
    engine ? engine.subscribe : noopSubscribe,
    engine ? engine.getSnapshot : emptySnapshot,
    emptySnapshot,
  );
  return { engine, state };
}
