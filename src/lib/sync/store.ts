import { applyOpEvent } from "../../../server/domain/delta";
import type { ConnectionState } from "./connectionState";
import type { SyncState } from "./options";
import { rebaseOverEvent } from "./pendingQueue";
import type { PendingOp, PendingStore } from "./pendingStore";
import type { BlockJson, ClosedReason, ConflictItem, OpEvent, SnapshotResult } from "./types";
import { type RemoteOpInfo, remoteInfo, viewOf, viewOfAll } from "./view";

/** Blocks deleted by others are remembered this long (count) so "Keep mine" can re-create them. */
const LAST_SEEN_LIMIT = 200;

export interface SyncStoreDeps {
  canvasId: string;
  store: PendingStore;
  closedReason(): ClosedReason | null;
  onError(error: unknown): void;
}

/**
 * UI-3: what the engine knows — the confirmed state (a prefix of the server's op log), the pending
 * queue on top of it, the conflicts waiting for the user — and the UI's store over it
 * (subscribe / getSnapshot for useSyncExternalStore, stable between changes).
 */
export class SyncStore {
  confirmed = new Map<string, BlockJson>();
  serverSeq = 0;
  pending: PendingOp[] = [];
  conflicts: ConflictItem[] = [];
  connection: ConnectionState = "offline";
  /** False once the server refused a write for lack of the right (turned reader). */
  writable = true;
  /** The view of blocks others deleted, as last shown (a "deleted" conflict re-creates from it). */
  readonly lastSeen = new Map<string, BlockJson>();
  private cached: SyncState | null = null;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly d: SyncStoreDeps) {}

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): SyncState => {
    if (!this.cached) {
      const { byId, blocks } = viewOfAll(this.confirmed, this.pending, this.d.canvasId);
      this.cached = {
        blocks,
        byId,
        serverSeq: this.serverSeq,
        connection: this.connection,
        pendingCount: this.pending.length,
        conflicts: this.conflicts,
        closedReason: this.d.closedReason(),
        writable: this.writable,
      };
    }
    return this.cached;
  };

  /** Something the UI shows changed: a new snapshot, and every listener told. */
  changed(): void {
    this.cached = null;
    for (const l of this.listeners) l();
  }

  /** One block of the view: confirmed with its pending ops applied. */
  viewOf(blockId: string): BlockJson | undefined {
    return viewOf(this.confirmed, this.pending, blockId, this.d.canvasId);
  }

  /**
   * RT-9: applies an event's delta to the confirmed state and takes it into the queue (our op
   * leaves, later ones are rebased). `ok: false` (nothing changed) when the delta was not made
   * against what we hold (unknown block, version gap): the caller reloads rather than show a
   * state the database does not have. `remote` is set for someone else's op (for undo).
   */
  apply(e: OpEvent): { ok: false } | { ok: true; remote: RemoteOpInfo | null } {
    const before = this.confirmed.get(e.block_id);
    const after = applyOpEvent(before, e);
    if (!after.ok) return { ok: false };
    // Ours by client_op_id alone: a delete's cascade to children carries our id on other blocks.
    const own = this.pending.some((p) => p.op.client_op_id === e.client_op_id);
    const remote = own ? null : remoteInfo(e, before, this.pending);
    if (!own && e.action === "delete") this.rememberDeleted(e.block_id);
    if (after.block) this.confirmed.set(e.block_id, after.block);
    else this.confirmed.delete(e.block_id);
    this.serverSeq = e.server_seq;
    this.pending = rebaseOverEvent(this.pending, e, before).filter(
      (p) => p.ackSeq === undefined || p.ackSeq > this.serverSeq,
    );
    return { ok: true, remote };
  }

  /** A snapshot replaces the confirmed state; pending ops stay on top (those it includes leave). */
  load(snap: Extract<SnapshotResult, { mode: "snapshot" }>): void {
    this.confirmed = new Map(snap.blocks.map((b) => [b.block_id, b]));
    this.serverSeq = snap.server_seq;
    this.pending = this.pending.filter((p) => p.ackSeq === undefined || p.ackSeq > this.serverSeq);
  }

  async persist(): Promise<void> {
    try {
      await this.d.store.save(this.pending);
    } catch (error) {
      this.d.onError(error);
    }
  }

  async persistConflicts(): Promise<void> {
    try {
      await this.d.store.saveConflicts?.(this.conflicts);
    } catch (error) {
      this.d.onError(error);
    }
  }

  private rememberDeleted(blockId: string): void {
    const view = this.viewOf(blockId);
    if (!view) return;
    this.lastSeen.set(blockId, view);
    if (this.lastSeen.size > LAST_SEEN_LIMIT) {
      const oldest = this.lastSeen.keys().next().value;
      if (oldest !== undefined) this.lastSeen.delete(oldest);
    }
  }
}
