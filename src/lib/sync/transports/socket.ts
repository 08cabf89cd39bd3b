import { CloseCodes } from "../../../../server/protocol/closeCodes";
import { SUBPROTOCOL } from "../../../../server/protocol/version";
import { eventOf, type ServerFrame, SYNC_PATHS } from "../../../../server/protocol/wire";
import type {
  ClosedReason,
  Op,
  OpResult,
  PresenceInput,
  SnapshotResult,
  SubscribeHandlers,
  SyncEvent,
  SyncTransport,
} from "../types";
import { ClosedError, TransientError, WriteRevokedError } from "../types";

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
  /** A1's `ws_url` with `?token=` appended (or pass `bearer.<jwt>` in `protocols`). */
  url: string;
  WebSocket: SocketCtor;
  /** Subprotocols offered besides the protocol version (RT-9: `potentia.v2` is always offered). */
  protocols?: string[];
  /** The socket has no snapshot procedure: H4 over REST. */
  snapshot: (sinceSeq?: number) => Promise<SnapshotResult>;
  /**
   * A mutation left unanswered this long (a lost frame, a stalled server) fails as transient, so
   * the engine resends it rather than waiting forever with its batch in flight; the resend is
   * byte-identical, so the server de-duplicates it (MUT-3). Default 10 s.
   */
  mutationTimeoutMs?: number;
}

const MUTATION_TIMEOUT_MS = 10_000;

/** Close codes after which reconnecting cannot help (REALTIME.md: "stop"). */
const CLOSED_BY_CODE: Record<number, ClosedReason> = {
  [CloseCodes.FORBIDDEN]: "access_removed",
  [CloseCodes.CANVAS_DELETED]: "canvas_deleted",
};

/** tRPC error codes worth a retry: the ops stay queued rather than being dropped. */
const RETRYABLE_TRPC_CODES = new Set([
  "UNAUTHORIZED",
  "TIMEOUT",
  "INTERNAL_SERVER_ERROR",
  "SERVICE_UNAVAILABLE",
]);

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

  const mutation = <T>(path: string, input: unknown, timeoutMs?: number): Promise<T> => {
    const ws = socket;
    if (ws?.readyState !== 1) return Promise.reject(new TransientError("socket not open"));
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const settle = (fn: () => void) => {
        clearTimeout(timer);
        fn();
      };
      calls.set(id, {
        resolve: (v) => settle(() => resolve(v as T)),
        reject: (e) => settle(() => reject(e)),
      });
      if (timeoutMs !== undefined)
        timer = setTimeout(() => {
          // A late answer finds no call and is dropped.
          calls.delete(id);
          reject(new TransientError("no answer from the socket", "rate_limited"));
        }, timeoutMs);
      ws.send(JSON.stringify({ id, method: "mutation", params: { path, input } }));
    });
  };

  return {
    kind: "websocket",
    snapshot: options.snapshot,
    mutate: (ops: Op[]) =>
      mutation<{ results: OpResult[] }>(
        SYNC_PATHS.mutate,
        { ops },
        options.mutationTimeoutMs ?? MUTATION_TIMEOUT_MS,
      ),
    presence: async (input: PresenceInput) => {
      await mutation<unknown>(SYNC_PATHS.presence, input);
    },
    subscribe(sinceSeq: number, handlers: SubscribeHandlers) {
      const ws = new options.WebSocket(options.url, [SUBPROTOCOL, ...(options.protocols ?? [])]);
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
            params: { path: SYNC_PATHS.events, input: { since_seq: sinceSeq } },
          }),
        );
      };
      ws.onmessage = (ev) => {
        let frame: ServerFrame;
        try {
          frame = JSON.parse(String(ev.data)) as ServerFrame;
        } catch {
          return;
        }
        if (frame.id === subId) {
          if (frame.result?.type === "started") handlers.onOpen?.();
          else if (frame.result?.type === "data") handlers.onEvent(eventOf(frame.result.data) as SyncEvent);
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
