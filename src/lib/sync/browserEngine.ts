import { SyncEngine } from "./engine";
import { browserNetworkStatus } from "./network";
import type { SyncEngineOptions } from "./options";
import { Pacer } from "./pacer";
import { createLocalStoragePendingStore } from "./pendingStore";
import { pacedFetch } from "./transports/pacedFetch";
import { createRestTransport } from "./transports/rest";
import { createWsTransport } from "./transports/socket";
import { tokenSocketClass } from "./transports/tokenSocket";
import type { BlockJson } from "./types";

/** What A1 told us about the canvas's stream. */
export interface RealtimeInfo {
  mode: "websocket" | "polling";
  ws_url: string;
  poll_interval_ms: number;
}

export interface BrowserEngineArgs {
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
 * The web app's engine for one canvas: localStorage queue, REST (same origin, through the Next.js
 * proxy) and the socket (A1's ws_url, a fresh token on every connect), one pacer for every
 * budget the server counts (the engine spends MUT-7's and the socket's, the fetch the REST
 * routes'), and the browser's network status.
 */
export function createBrowserEngine(args: BrowserEngineArgs): SyncEngine {
  const pacer = new Pacer();
  const rest = createRestTransport({
    baseUrl: "",
    canvasId: args.canvasId,
    getToken: args.getToken,
    pollIntervalMs: args.realtime.poll_interval_ms,
    fetch: pacedFetch(pacer),
  });
  const ws =
    typeof WebSocket === "undefined"
      ? undefined
      : createWsTransport({
          url: args.realtime.ws_url,
          WebSocket: tokenSocketClass(args.getToken),
          snapshot: (since) => rest.snapshot(since),
        });
  return new SyncEngine({
    canvasId: args.canvasId,
    store: createLocalStoragePendingStore(args.canvasId, args.userId),
    rest,
    ...(ws ? { ws } : {}),
    realtimeMode: args.realtime.mode,
    pacing: pacer,
    // UI-3: "Offline" as soon as the browser loses the network, and a reconnect at once when it is back.
    network: browserNetworkStatus(),
    initial: args.initial,
    ...(args.onConflict ? { onConflict: args.onConflict } : {}),
    ...(args.onError ? { onError: args.onError } : {}),
    ...(args.onOtherEvent ? { onOtherEvent: args.onOtherEvent } : {}),
  });
}
