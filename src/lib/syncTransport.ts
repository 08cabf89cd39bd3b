import type {
  ClosedReason,
  Op,
  OpEvent,
  OpResult,
  PresenceInput,
  SnapshotResult,
  SubscribeHandlers,
  SyncEvent,
  SyncTransport,
} from "./syncTypes";
import { ClosedError, TransientError, WriteRevokedError } from "./syncTypes";

type Fetch = (url: string, init?: RequestInit) => Promise<Response>;

export interface RestTransportOptions {
  /** Origin of the API, e.g. "https://potentia.example" ("" for same-origin). */
  baseUrl: string;
  canvasId: string;
  getToken: () => string | Promise<string>;
  /** A1's `realtime.poll_interval_ms`. */
  pollIntervalMs?: number;
  fetch?: Fetch;
}

/** REST: H2 mutate, H4 snapshot, and `subscribe` as H4 polling with `since_seq`. */
export function createRestTransport(options: RestTransportOptions): SyncTransport {
  const doFetch: Fetch = options.fetch ?? ((url, init) => globalThis.fetch(url, init));
  const root = `${options.baseUrl}/api/v1/canvas/${encodeURIComponent(options.canvasId)}`;
  const interval = options.pollIntervalMs ?? 2000;

  async function call<T>(path: string, init: RequestInit = {}): Promise<T> {
    let res: Response;
    try {
      const token = await options.getToken();
      res = await doFetch(`${root}${path}`, {
        ...init,
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      });
    } catch (error) {
      throw new TransientError(`network: ${(error as Error).message}`);
    }
    if (res.status === 429) throw new TransientError("rate limited", "rate_limited");
    // An expired token is refreshed by getToken on the retry: never drop ops for it.
    if (res.status === 401 || res.status === 408)
      throw new TransientError(`HTTP ${res.status}`, "unavailable");
    if (res.status >= 500) throw new TransientError(`HTTP ${res.status}`, "unavailable");
    // API-1: 403 = still a member but without the right; 404 = the canvas is gone, or we are no
    // longer a member (the API answers both alike, so a removed member reads as "deleted" here).
    if (res.status === 403)
      throw init.method === "POST" && path === "/mutate"
        ? new WriteRevokedError()
        : new ClosedError("access_removed");
    if (res.status === 404) throw new ClosedError("canvas_deleted");
    if (!res.ok) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
    return (await res.json()) as T;
  }

  const transport: SyncTransport = {
    kind: "rest",
    mutate: (ops: Op[]) =>
      call<{ results: OpResult[] }>("/mutate", { method: "POST", body: JSON.stringify({ ops }) }),
    snapshot: (sinceSeq?: number) =>
      call<SnapshotResult>(`/snapshot${sinceSeq === undefined ? "" : `?since_seq=${sinceSeq}`}`),
    presence: async (input: PresenceInput) => {
      await call<unknown>("/presence", { method: "POST", body: JSON.stringify(input) });
    },
    subscribe(sinceSeq: number, handlers: SubscribeHandlers) {
      let seq = sinceSeq;
      let stopped = false;
      let opened = false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const poll = async () => {
        try {
          const snap = await transport.snapshot(seq);
          if (stopped) return;
          if (!opened) {
            opened = true;
            handlers.onOpen?.();
          }
          if (snap.mode === "replay") for (const e of snap.events) handlers.onEvent(e);
          else handlers.onEvent({ type: "resync" });
          seq = snap.server_seq;
        } catch (error) {
          if (!stopped) handlers.onClose?.(error);
          stopped = true;
          return;
        }
        if (!stopped) timer = setTimeout(poll, interval);
      };
      void poll();
      return () => {
        stopped = true;
        if (timer !== undefined) clearTimeout(timer);
      };
    },
  };
  return transport;
}

/** The part of the WebSocket API the transport uses (browser WebSocket or `ws`). */
export interface SocketLike {
  readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code?: number }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}
export type SocketCtor = new (url: string, protocols?: string | string[]) => SocketLike;

export interface WsTransportOptions {
  /** A1's `ws_url` with `?token=` appended (or pass `protocols`: ["bearer.<jwt>", "potentia.v1"]). */
  url: string;
  WebSocket: SocketCtor;
  protocols?: string[];
  /** The socket has no snapshot procedure: H4 over REST. */
  snapshot: (sinceSeq?: number) => Promise<SnapshotResult>;
}

/** Close codes after which reconnecting cannot help (REALTIME.md: "stop"). */
const CLOSED_BY_CODE: Record<number, ClosedReason> = { 4403: "access_removed", 4404: "canvas_deleted" };

/** tRPC error codes worth a retry: the ops stay queued rather than being dropped. */
const RETRYABLE_TRPC_CODES = new Set([
  "UNAUTHORIZED",
  "TIMEOUT",
  "INTERNAL_SERVER_ERROR",
  "SERVICE_UNAVAILABLE",
]);

interface Frame {
  id?: number | string | null;
  result?: { type?: string; id?: string; data?: unknown };
  error?: { message?: string; data?: { code?: string } };
}

/**
 * tRPC's WebSocket wire protocol with plain JSON (RT-1, RT-2): one socket per subscription,
 * which mutations share while it is open.
 */
export function createWsTransport(options: WsTransportOptions): SyncTransport {
  let socket: SocketLike | null = null;
  let nextId = 1;
  const calls = new Map<number, { resolve(v: unknown): void; reject(e: unknown): void }>();

  const failCalls = (error: unknown) => {
    for (const c of calls.values()) c.reject(error);
    calls.clear();
  };

  const mutation = <T>(path: string, input: unknown): Promise<T> => {
    const ws = socket;
    if (ws?.readyState !== 1) return Promise.reject(new TransientError("socket not open"));
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      calls.set(id, { resolve: resolve as (v: unknown) => void, reject });
      ws.send(JSON.stringify({ id, method: "mutation", params: { path, input } }));
    });
  };

  return {
    kind: "websocket",
    snapshot: options.snapshot,
    mutate: (ops: Op[]) => mutation<{ results: OpResult[] }>("sync.mutate", { ops }),
    presence: async (input: PresenceInput) => {
      await mutation<unknown>("sync.presence", input);
    },
    subscribe(sinceSeq: number, handlers: SubscribeHandlers) {
      const ws = new options.WebSocket(options.url, options.protocols);
      socket = ws;
      const subId = nextId++;
      let closed = false;
      const close = (error?: unknown) => {
        if (closed) return;
        closed = true;
        if (socket === ws) socket = null;
        failCalls(new TransientError("socket closed"));
        handlers.onClose?.(error);
      };
      ws.onopen = () => {
        ws.send(
          JSON.stringify({
            id: subId,
            method: "subscription",
            params: { path: "sync.events", input: { since_seq: sinceSeq } },
          }),
        );
      };
      ws.onmessage = (ev) => {
        let frame: Frame;
        try {
          frame = JSON.parse(String(ev.data)) as Frame;
        } catch {
          return;
        }
        if (frame.id === subId) {
          if (frame.result?.type === "started") handlers.onOpen?.();
          else if (frame.result?.type === "data") handlers.onEvent(unwrapTracked(frame.result.data));
          else if (frame.error || frame.result?.type === "stopped") ws.close(1000);
          return;
        }
        const call = typeof frame.id === "number" ? calls.get(frame.id) : undefined;
        if (!call || typeof frame.id !== "number") return;
        calls.delete(frame.id);
        if (frame.error) {
          const code = frame.error.data?.code ?? "";
          const message = frame.error.message ?? "mutation failed";
          call.reject(
            code === "TOO_MANY_REQUESTS"
              ? new TransientError(message, "rate_limited")
              : RETRYABLE_TRPC_CODES.has(code)
                ? new TransientError(message, "unavailable")
                : code === "FORBIDDEN"
                  ? new WriteRevokedError()
                  : code === "NOT_FOUND"
                    ? new ClosedError("canvas_deleted")
                    : new Error(message),
          );
        } else call.resolve(frame.result?.data);
      };
      ws.onerror = () => {};
      ws.onclose = (ev) => {
        const reason = CLOSED_BY_CODE[ev.code ?? 0];
        close(reason ? new ClosedError(reason) : new TransientError(`socket closed (${ev.code ?? "?"})`));
      };
      return () => {
        ws.onclose = null;
        if (!closed) {
          closed = true;
          if (socket === ws) socket = null;
          failCalls(new TransientError("socket closed"));
        }
        try {
          ws.close(1000);
        } catch {
          // already closing
        }
      };
    },
  };
}

/** Tracked events come as `{ id: "<seq>", data: <event> }` (REALTIME.md). */
function unwrapTracked(data: unknown): SyncEvent {
  if (data && typeof data === "object" && !("type" in data) && "data" in data) {
    return (data as { data: SyncEvent }).data;
  }
  return data as SyncEvent;
}

export type { OpEvent };
