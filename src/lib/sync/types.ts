import type { TextOp } from "ot-text-unicode";
import type { BlockJson, ConflictField, Op, OpEvent, OpResult } from "../../../server/protocol/ops";

export type { BlockJson, ConflictField, Op, OpEvent, OpResult, TextOp };

/**
 * UI-4: one unresolved conflict, for the conflict panel. `fields` are the server's (MUT-4), except
 * that a text edit's `mine` is always the full content string (computed client-side when the
 * server could only echo the text_op). `block` is the block as the user saw it when the conflict
 * arrived (with the rejected op applied); it is what "Keep mine" re-creates for reason "deleted".
 */
export interface ConflictItem {
  id: string;
  blockId: string;
  reason: "stale_fields" | "deleted";
  fields: ConflictField[];
  /** The op as sent (the payload the server judged). */
  op: Op;
  result: OpResult;
  block?: BlockJson;
}

/** H3 / `sync.presence` input (API.md): missing fields are published as null / false. */
export interface PresenceInput {
  cursor?: { x: number; y: number } | null;
  block_id?: string | null;
  typing?: boolean;
}

/** Why the server ended this client's access to the canvas (close codes 4403 / 4404, REST 403 / 404). */
export type ClosedReason = "access_removed" | "canvas_deleted";

/** RT-3 events the engine acts on; presence/join/leave are passed through untouched. */
export type SyncEvent =
  | OpEvent
  | { type: "resync" }
  | { type: "presence" | "join" | "leave"; [key: string]: unknown };

/** H4's answer (API.md): a full snapshot or the ops after `since_seq`. */
export type SnapshotResult =
  | { mode: "snapshot"; blocks: BlockJson[]; server_seq: number }
  | { mode: "replay"; events: OpEvent[]; server_seq: number };

export interface SubscribeHandlers {
  onEvent(event: SyncEvent): void;
  /** The subscription is live (tRPC `started`, or the first successful poll). */
  onOpen?(): void;
  /** The stream ended (socket closed, poll failed); the engine decides whether to retry. */
  onClose?(error?: unknown): void;
}

/** How the engine reaches the server: a tRPC WebSocket or REST (H2 + H4 polling). */
export interface SyncTransport {
  readonly kind: "websocket" | "rest";
  mutate(ops: Op[]): Promise<{ results: OpResult[] }>;
  subscribe(sinceSeq: number, handlers: SubscribeHandlers): () => void;
  snapshot(sinceSeq?: number): Promise<SnapshotResult>;
  /** Best-effort presence (RT-7): the engine swallows failures and never queues it. */
  presence(input: PresenceInput): Promise<void>;
}

/** A transport failure worth retrying with backoff (network, 429, 5xx, closed socket). */
export class TransientError extends Error {
  constructor(
    message: string,
    readonly code: "network" | "rate_limited" | "unavailable" = "network",
  ) {
    super(message);
    this.name = "TransientError";
  }
}

/**
 * The server will not serve this canvas to us any more (4403 / 4404 close, REST 403 / 404, tRPC
 * FORBIDDEN / NOT_FOUND): retrying cannot help, so the engine stops instead of backing off.
 */
export class ClosedError extends Error {
  constructor(readonly reason: ClosedReason) {
    super(reason === "access_removed" ? "access to this canvas was removed" : "the canvas was deleted");
    this.name = "ClosedError";
  }
}

/**
 * The server refused a write because we may no longer write (a writer turned reader: REST 403,
 * tRPC FORBIDDEN on `sync.mutate`). Reading goes on; the unsent ops stay stored, nothing retries.
 */
export class WriteRevokedError extends Error {
  constructor() {
    super("you can no longer edit this canvas");
    this.name = "WriteRevokedError";
  }
}
