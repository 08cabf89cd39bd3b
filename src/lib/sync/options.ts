import type { ConnectionState } from "./connectionState";
import type { NetworkStatus } from "./network";
import type { Pacer } from "./pacer";
import type { PendingStore } from "./pendingStore";
import type { BlockJson, ClosedReason, ConflictItem, Op, OpResult, SyncEvent, SyncTransport } from "./types";

export type { ConflictItem, ConnectionState };

/** What the UI reads (stable between changes, for useSyncExternalStore). */
export interface SyncState {
  /** Confirmed state with the pending ops applied on top, in document order. */
  blocks: readonly BlockJson[];
  byId: ReadonlyMap<string, BlockJson>;
  serverSeq: number;
  connection: ConnectionState;
  pendingCount: number;
  /** Unresolved conflicts, oldest first (UI-4). */
  conflicts: readonly ConflictItem[];
  /** Set when `connection` is "closed". */
  closedReason: ClosedReason | null;
  /** False once the server refused a write for lack of the right (turned reader): still live. */
  writable: boolean;
}

export interface SyncEngineOptions {
  canvasId: string;
  store: PendingStore;
  /** H2 + H4 (and polling). Always present: snapshots come from here. */
  rest: SyncTransport;
  /** The tRPC socket; absent means polling only. */
  ws?: SyncTransport;
  /** A1's realtime.mode. */
  realtimeMode?: "websocket" | "polling";
  /** Keystrokes on one block within this window are composed into one text_op. */
  batchWindowMs?: number;
  /** A keystroke batch is sent after this long even while typing goes on. */
  maxBatchMs?: number;
  /**
   * Request pacing under MUT-7 and RT-6 (sync/pacer.ts): the client's one pacer (the web app shares
   * it with its REST fetch), or `false` to turn pacing off (tests). Default: a pacer of its own.
   */
  pacing?: Pacer | false;
  /** Socket failures in a row before falling back to polling. */
  maxSocketFailures?: number;
  /** How often a polling client probes the socket again. */
  socketRetryMs?: number;
  /** Whether the device has a network (the browser's online/offline); absent: always assumed. */
  network?: NetworkStatus;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** A1's blocks and server_seq, when already loaded. */
  initial?: { blocks: BlockJson[]; server_seq: number };
  onConflict?: (result: OpResult, op: Op) => void;
  onError?: (error: unknown, op?: Op) => void;
  /** presence / join / leave events. */
  onOtherEvent?: (event: SyncEvent) => void;
  now?: () => number;
  randomUUID?: () => string;
}

export interface CreateInput {
  block_id?: string;
  type: NonNullable<Op["type"]>;
  content?: string;
  props?: Record<string, unknown>;
  parent_id?: string | null;
  position?: { after?: string; before?: string };
}

export type UpdateFields = Pick<Op, "type" | "content" | "props" | "parent_id">;
