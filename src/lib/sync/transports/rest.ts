import type { Op, OpResult, PresenceInput, SnapshotResult, SubscribeHandlers, SyncTransport } from "../types";
import { ClosedError, TransientError, WriteRevokedError } from "../types";

export type Fetch = (url: string, init?: RequestInit) => Promise<Response>;

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
