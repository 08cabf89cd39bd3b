import { type as textType } from "ot-text-unicode";
import { applyOpEvent } from "../../server/domain/delta";
import { sameChange } from "./conflictDiff";
import { applyPending, byDocumentOrder, diffOp, invertTextOp } from "./localApply";
import { DEFAULT_PACING, RequestPacer } from "./pacer";
import { canComposeKeystroke, contentReplaced, rebaseOverEvent, selectBatch } from "./pendingQueue";
import type { PendingOp } from "./pendingStore";
import { SyncConnection } from "./syncConnection";
import type {
  ConflictItem,
  ConnectionState,
  CreateInput,
  SyncEngineOptions,
  SyncState,
  UpdateFields,
} from "./syncOptions";
import type {
  BlockJson,
  ClosedReason,
  ConflictField,
  Op,
  OpEvent,
  OpResult,
  PresenceInput,
  SnapshotResult,
  SyncEvent,
  SyncTransport,
  TextOp,
} from "./syncTypes";
import { ClosedError, TransientError, WriteRevokedError } from "./syncTypes";
import { yOrderFor } from "./yOrder";

export type {
  ClosedReason,
  ConflictField,
  ConflictItem,
  ConnectionState,
  CreateInput,
  PresenceInput,
  SyncEngineOptions,
  SyncState,
  UpdateFields,
};

/** How a remote op event looks from the view (for undo: UI-5). */
export interface RemoteOpInfo {
  /** The event's text_op transformed over our pending text ops on the block: it applies to the view. */
  viewTextOp: TextOp | null;
  /** The content was replaced wholesale (no text_op): text positions from before no longer hold. */
  contentReplaced: boolean;
}

export type LocalOpListener = (op: Op, before: BlockJson | undefined) => void;
export type RemoteOpListener = (event: OpEvent, info: RemoteOpInfo) => void;

/**
 * Failed results worth resending with the same client_op_id (the server allows it for these:
 * mutation_core's idempotency check lets a rate_limited / internal / timeout attempt run again).
 */
const RETRY_CODES = new Set(["rate_limited", "internal", "timeout"]);

/** How often a refused create is re-placed before it fails for good. */
const MAX_SALVAGES = 3;

/** Blocks deleted by others are remembered this long (count) so "Keep mine" can re-create them. */
const LAST_SEEN_LIMIT = 200;

/**
 * UI-3: the client sync engine. The confirmed state is exactly a prefix of the server's op log
 * (advanced only by `op` events, in `prev_seq` order); the view is that state with the pending
 * ops applied on top. A `success` result only marks its op acknowledged: the op leaves the queue
 * when its event arrives, so an op committed before ours but delivered after our result can
 * never be applied twice. Once sent, an op's payload is frozen (resends are byte-identical,
 * MUT-3); only its local copy keeps being rebased for display.
 */
export class SyncEngine {
  private confirmed = new Map<string, BlockJson>();
  private serverSeq = 0;
  private pending: PendingOp[] = [];
  private connection: ConnectionState = "offline";
  private inflight = false;
  private recovering = false;
  private stopped = false;
  private started = false;
  private sendAttempt = 0;
  private recoverAttempt = 0;
  /** A recovery waiting for its backoff: run at once when the network returns. */
  private recoveryRetry: { timer: ReturnType<typeof setTimeout>; kind: "replay" | "full" } | null = null;
  private unwatchNetwork: (() => void) | undefined;
  private readonly link: SyncConnection;
  private current: SyncTransport | null = null;
  private pumpTimer: ReturnType<typeof setTimeout> | undefined;
  private timers = new Set<ReturnType<typeof setTimeout>>();
  private listeners = new Set<() => void>();
  private cached: SyncState | null = null;
  private conflicts: ConflictItem[] = [];
  private closedReason: ClosedReason | null = null;
  private writable = true;
  private presenceListeners = new Set<(event: SyncEvent) => void>();
  private localOpListeners = new Set<LocalOpListener>();
  private remoteOpListeners = new Set<RemoteOpListener>();
  /** The view of blocks others deleted, as last shown (a "deleted" conflict re-creates from it). */
  private lastSeen = new Map<string, BlockJson>();
  private readonly pacer: RequestPacer | null;
  private readonly o: Required<
    Pick<
      SyncEngineOptions,
      | "batchWindowMs"
      | "maxBatchMs"
      | "maxSocketFailures"
      | "socketRetryMs"
      | "backoffBaseMs"
      | "backoffMaxMs"
    >
  > &
    SyncEngineOptions;

  constructor(options: SyncEngineOptions) {
    this.o = {
      batchWindowMs: 50,
      maxBatchMs: 250,
      maxSocketFailures: 3,
      socketRetryMs: 30_000,
      backoffBaseMs: 500,
      backoffMaxMs: 30_000,
      ...options,
    };
    this.pacer = options.pacing === false ? null : new RequestPacer(options.pacing ?? DEFAULT_PACING);
    this.link = new SyncConnection({
      ws: options.ws,
      rest: options.rest,
      mode: options.ws && options.realtimeMode !== "polling" ? "websocket" : "polling",
      maxSocketFailures: this.o.maxSocketFailures,
      socketRetryMs: this.o.socketRetryMs,
      ...(options.network ? { network: options.network } : {}),
      seq: () => this.serverSeq,
      onEvent: this.onEvent,
      onState: (state, transport) => {
        this.current = transport;
        this.setConnection(state);
        this.pump();
      },
      onClosed: (reason) => this.close(reason),
      later: (fn, ms) => void this.later(fn, ms),
      backoff: (attempt) => this.backoff(attempt),
    });
    if (options.initial) this.loadSnapshot({ mode: "snapshot", ...options.initial });
  }

  // ---- lifecycle -------------------------------------------------------------------------

  /** Loads the durable queue and the snapshot, then connects and resends what is pending. */
  async start(): Promise<void> {
    this.pending = [...(await this.o.store.load()), ...this.pending];
    // Conflicts the user had not decided before a reload are shown again (nothing lost silently).
    const kept = (await this.o.store.loadConflicts?.().catch(() => [])) ?? [];
    this.conflicts = [...kept.filter((k) => !this.conflicts.some((c) => c.id === k.id)), ...this.conflicts];
    this.started = true;
    if (!this.o.initial) {
      try {
        const snap = await this.o.rest.snapshot();
        if (snap.mode === "snapshot") this.loadSnapshot(snap);
      } catch (error) {
        if (error instanceof ClosedError) {
          this.close(error.reason);
          return;
        }
        this.o.onError?.(error);
        this.setConnection("offline");
        this.retryRecovery("full");
        this.changed();
        return;
      }
    }
    this.changed();
    this.link.connect();
  }

  /** Idempotent: closes the subscription and clears every timer. */
  stop(): void {
    this.stopped = true;
    this.link.stop();
    this.unwatchNetwork?.();
    this.unwatchNetwork = undefined;
    this.recoveryRetry = null;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.pumpTimer = undefined;
  }

  // ---- UI store --------------------------------------------------------------------------

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): SyncState => {
    if (!this.cached) {
      const byId = new Map(this.confirmed);
      for (const p of this.pending) applyPending(byId, p, this.o.canvasId);
      this.cached = {
        blocks: [...byId.values()].sort(byDocumentOrder),
        byId,
        serverSeq: this.serverSeq,
        connection: this.connection,
        pendingCount: this.pending.length,
        conflicts: this.conflicts,
        closedReason: this.closedReason,
        writable: this.writable,
      };
    }
    return this.cached;
  };

  /** A1 told us the mode (OPS-6 may switch a canvas to polling, and back). */
  setRealtimeMode(mode: "websocket" | "polling"): void {
    if (this.started && !this.stopped) this.link.setMode(mode);
  }

  // ---- local ops -------------------------------------------------------------------------

  create(input: CreateInput): string {
    const blockId = input.block_id ?? this.uuid();
    const op: Op = {
      client_op_id: this.uuid(),
      action: "create",
      block_id: blockId,
      type: input.type,
      content: input.content ?? "",
      props: input.props ?? {},
      parent_id: input.parent_id ?? null,
      ...(input.position ? { position: { after: input.position.after, before: input.position.before } } : {}),
    };
    const yOrder = this.localYOrder(blockId, input.position);
    this.emitLocal(op);
    this.enqueue({ op, yOrder });
    return blockId;
  }

  update(blockId: string, fields: UpdateFields): void {
    const op = this.baseOp("update", blockId, fields);
    this.emitLocal(op);
    this.enqueue({ op });
  }

  delete(blockId: string): void {
    const op = this.baseOp("delete", blockId, {});
    this.emitLocal(op);
    this.enqueue({ op });
  }

  move(blockId: string, position: { after?: string; before?: string }): void {
    const op = this.baseOp("update", blockId, {
      position: { after: position.after, before: position.before },
    });
    const yOrder = this.localYOrder(blockId, position);
    this.emitLocal(op);
    this.enqueue({ op, yOrder });
  }

  /**
   * A text edit (ot-text-unicode op on the current view content); keystrokes are batched. An op
   * that does not fit the shown text is refused (onError) rather than queued.
   */
  editText(blockId: string, textOp: TextOp): void {
    try {
      textType.apply(this.viewOf(blockId)?.content ?? "", textOp);
    } catch (error) {
      // A caller bug (an op for other text): the server would refuse it, and undo could not invert it.
      this.o.onError?.(error);
      return;
    }
    const last = this.pending.at(-1);
    const now = this.now();
    if (last && canComposeKeystroke(last, blockId)) {
      // Undo wants every keystroke as typed, not the composed batch.
      this.emitLocal({ ...last.op, text_op: textOp as Op["text_op"] });
      last.op.text_op = textType.compose(last.op.text_op as TextOp, textOp) as Op["text_op"];
      last.touchedAt = now;
      // Keystrokes that cancel out ("a", Backspace) leave nothing to send (the server refuses an
      // empty text_op).
      if ((last.op.text_op as TextOp).length === 0) this.drop(last);
      this.queueChanged();
      return;
    }
    const op = this.baseOp("update", blockId, { text_op: textOp as Op["text_op"] });
    this.emitLocal(op);
    this.enqueue({ op, touchedAt: now, startedAt: now });
  }

  /** Sends batched keystrokes now (blur, unload). */
  flush(): void {
    for (const p of this.pending) p.touchedAt = undefined;
    this.pump();
  }

  /**
   * MUT-9: an op's base is the version of the block this client had confirmed when the user made
   * the change (never an optimistic local count, which could name another user's op), and it
   * names the previous op of this client on the block that the server has not confirmed yet, so
   * the server can tell this chain's own changes from everyone else's.
   */
  private baseOp(action: "update" | "delete", blockId: string, fields: Partial<Op>): Op {
    const base = this.confirmed.get(blockId)?.version;
    const prev = this.pending.findLast((p) => p.op.block_id === blockId && p.op.action !== "create");
    return {
      client_op_id: this.uuid(),
      action,
      block_id: blockId,
      ...(base !== undefined ? { base_version: base } : {}),
      ...(prev ? { prev_client_op_id: prev.op.client_op_id } : {}),
      ...fields,
    } as Op;
  }

  private localYOrder(blockId: string, position?: { after?: string; before?: string }): string {
    return yOrderFor(this.getSnapshot().blocks, blockId, position);
  }

  private enqueue(p: PendingOp): void {
    this.pending.push(p);
    this.queueChanged();
  }

  private queueChanged(): void {
    void this.persist();
    this.changed();
    this.pump();
  }

  // ---- sending ---------------------------------------------------------------------------

  private pump(): void {
    if (this.inflight || this.recovering || this.stopped || !this.started || !this.current || !this.writable)
      return;
    const now = this.now();
    const { batch, waitMs } = selectBatch(this.pending, now, this.o.batchWindowMs, this.o.maxBatchMs);
    // MUT-7 / RT-6: wait for the budget rather than be refused; keystrokes keep composing meanwhile.
    const paced = batch.length > 0 && this.pacer ? this.pacer.delay(now) : 0;
    if ((waitMs !== undefined && batch.length === 0) || paced > 0) {
      if (this.pumpTimer === undefined) {
        this.pumpTimer = this.later(
          () => {
            this.pumpTimer = undefined;
            this.pump();
          },
          paced > 0 ? paced : (waitMs as number),
        );
      }
      return;
    }
    if (batch.length === 0) return;
    this.pacer?.take(now);
    for (const p of batch) p.wire ??= this.wireOf(p);
    this.inflight = true;
    void this.send(this.current, batch);
  }

  private wireOf(p: PendingOp): Op {
    const op: Op = JSON.parse(JSON.stringify(p.op));
    if (op.action !== "create" && op.base_version === undefined) {
      const v = this.confirmed.get(op.block_id)?.version;
      if (v !== undefined) op.base_version = v;
    }
    return op;
  }

  private async send(transport: SyncTransport, batch: PendingOp[]): Promise<void> {
    await this.persist();
    let results: OpResult[];
    try {
      results = (await transport.mutate(batch.map((p) => p.wire as Op))).results;
    } catch (error) {
      this.inflight = false;
      if (this.stopped) return;
      if (error instanceof ClosedError) {
        // The ops stay queued (and stored): nothing retries, nothing is lost.
        this.close(error.reason);
        return;
      }
      if (error instanceof WriteRevokedError) {
        // Turned reader: keep reading live; the ops stay stored (a writer again sends them after
        // a reload), nothing retries.
        this.writable = false;
        this.changed();
        return;
      }
      if (error instanceof TransientError) {
        this.later(() => this.pump(), this.backoff(this.sendAttempt++));
      } else {
        for (const p of batch) this.reject(p);
        for (const p of batch) this.o.onError?.(error, p.op);
        this.queueChanged();
      }
      return;
    }
    this.inflight = false;
    if (this.stopped) return;
    let retry = false;
    let acked = false;
    for (const p of batch) {
      const r = results.find((x) => x.client_op_id === p.op.client_op_id && x.block_id === p.op.block_id);
      if (!r || (r.status === "failed" && RETRY_CODES.has(r.error?.code ?? ""))) retry = true;
      else if (r.status === "failed" && this.salvage(p, r)) {
        // re-placed: stays in the queue under a new client_op_id
      } else if (r.status === "success") {
        if (r.server_seq === null || r.server_seq <= this.serverSeq) this.drop(p);
        else {
          p.ackSeq = r.server_seq;
          acked = true;
        }
      } else {
        // Deleting a block someone else deleted first is no conflict for the user: both wanted it gone.
        const moot = r.status === "conflict" && r.conflict?.reason === "deleted" && p.op.action === "delete";
        if (r.status === "conflict" && !moot) {
          // Keystroke batches queued behind it, stale under the same replace, would conflict one
          // by one: they join this item (its `mine` has them all) and leave the queue with it.
          const followers = this.staleFollowers(p);
          this.addConflict(r, p, followers);
          for (const q of [...followers].reverse()) this.reject(q);
        }
        this.reject(p);
        if (r.status === "conflict") this.o.onConflict?.(r, p.op);
        else this.o.onError?.(r.error ?? r, p.op);
      }
    }
    this.sendAttempt = retry ? this.sendAttempt : 0;
    void this.persist();
    this.changed();
    // Polling: fetch our ops' events now rather than at the next tick.
    if (acked) this.link.refresh();
    if (retry) this.later(() => this.pump(), this.backoff(this.sendAttempt++));
    else this.pump();
  }

  /**
   * A create refused for where it was put (its parent, `after` or `before` was deleted by someone
   * meanwhile) is the user's new block: rather than lose it, it is re-placed — as a root block if
   * the parent was refused (invalid_op), else after the nearest block before it in the view (or
   * before the nearest after it) avoiding every id refused so far — keeping its place in the queue
   * and its block_id (a failed create writes no row), with a new client_op_id. At most
   * MAX_SALVAGES times; then it fails like any op.
   */
  private salvage(p: PendingOp, r: OpResult): boolean {
    const code = r.error?.code;
    const { op } = p;
    if (op.action !== "create" || (p.salvaged ?? 0) >= MAX_SALVAGES) return false;
    if (code !== "invalid_position" && code !== "invalid_op") return false;
    if (!op.position && !op.parent_id) return false;
    const refused = code === "invalid_op" ? [op.parent_id] : [op.position?.after, op.position?.before];
    const avoid = new Set([...(p.avoid ?? []), ...refused.filter((x): x is string => typeof x === "string")]);
    const view = this.getSnapshot().blocks;
    const i = view.findIndex((b) => b.block_id === op.block_id);
    const ok = (b: BlockJson) => !avoid.has(b.block_id) && b.block_id !== op.block_id;
    const prev = i > 0 ? view.slice(0, i).findLast(ok) : undefined;
    const next = i >= 0 ? view.slice(i + 1).find(ok) : undefined;
    const { position: _old, ...rest } = op;
    p.op = {
      ...rest,
      client_op_id: this.uuid(),
      ...(code === "invalid_op" ? { parent_id: null } : {}),
      ...(prev
        ? { position: { after: prev.block_id, before: undefined } }
        : next
          ? { position: { after: undefined, before: next.block_id } }
          : {}),
    };
    p.wire = undefined;
    p.salvaged = (p.salvaged ?? 0) + 1;
    p.avoid = [...avoid];
    return true;
  }

  /** UI-4: records the conflict for the panel, with `mine` as the user saw it. */
  private addConflict(r: OpResult, p: PendingOp, followers: readonly PendingOp[]): void {
    const op = p.wire ?? p.op;
    // The view still has the rejected ops applied: that is "mine" as the user saw it.
    const view = this.viewOf(p.op.block_id) ?? this.lastSeen.get(p.op.block_id);
    const fields = (r.conflict?.fields ?? []).map((f) => {
      if (f.field !== "content") return f;
      let mine = typeof f.mine === "string" ? f.mine : textMine(f, op);
      for (const q of followers) {
        if (mine === null) break;
        try {
          mine = textType.apply(mine, q.op.text_op as TextOp);
        } catch {
          mine = null;
        }
      }
      return { ...f, mine: mine ?? view?.content ?? "" };
    });
    // MUT-10: the other person made the same update (theirs = mine in every field): there is
    // nothing to choose, and the view already shows that value.
    const stale = r.conflict?.reason === "stale_fields" && op.action === "update";
    if (stale && fields.length > 0 && fields.every(sameChange)) return;
    this.conflicts = [
      ...this.conflicts,
      {
        id: this.uuid(),
        blockId: p.op.block_id,
        reason: r.conflict?.reason ?? "stale_fields",
        fields,
        op,
        result: r,
        ...(view ? { block: view } : {}),
      },
    ];
    void this.persistConflicts();
  }

  /** Unsent stale text ops right behind `p` on its block (typed before the same foreign replace). */
  private staleFollowers(p: PendingOp): PendingOp[] {
    if (p.op.text_op === undefined) return [];
    const out: PendingOp[] = [];
    for (const q of this.pending.slice(this.pending.indexOf(p) + 1)) {
      if (q.op.block_id !== p.op.block_id) continue;
      if (!q.stale || q.wire || q.op.text_op === undefined || q.op.content !== undefined) break;
      out.push(q);
    }
    return out;
  }

  private drop(p: PendingOp): void {
    this.pending = this.pending.filter((x) => x !== p);
  }

  /**
   * Drops an op the server refused. Later unsent text ops on its block were typed on a view that
   * had its change: they are transformed past the inverse of that change, so they still mean the
   * same place without it (otherwise they would show, and be sent, misplaced).
   */
  private reject(p: PendingOp): void {
    const id = p.op.block_id;
    const one = new Map<string, BlockJson>();
    const c = this.confirmed.get(id);
    if (c) one.set(id, c);
    let undo: TextOp | null = null;
    for (const q of this.pending) {
      if (q.op.block_id !== id) continue;
      if (q === p) {
        const before = one.get(id)?.content;
        applyPending(one, q, this.o.canvasId);
        const after = one.get(id)?.content;
        if (before !== undefined && after !== undefined && before !== after)
          undo = invertText(q.op.text_op as TextOp | undefined, before, after);
        continue;
      }
      if (!undo) continue;
      if (q.op.content !== undefined) break; // replaced wholesale: later ops no longer depend on it
      const mine = q.op.text_op as TextOp | undefined;
      if (mine === undefined || q.wire) continue;
      // "right": text typed at the edge of the dropped change lands after what comes back (typing
      // usually continues at the end of a replaced text).
      q.op.text_op = textType.transform(mine, undo, "right") as Op["text_op"];
      undo = textType.transform(undo, mine, "left");
    }
    this.drop(p);
  }

  // ---- conflicts, presence, listeners (UI-4, UI-5) ---------------------------------------

  /**
   * UI-4: "theirs" keeps the server's state (nothing is sent); "mine" queues a new op (new
   * client_op_id, base_version = the current confirmed version) that sets the conflicted fields to
   * `mine`. A block deleted under our op is re-created under a new id (the server refuses to
   * re-use a block_id: `exists`), with the type, content, props, parent and place we last saw.
   * The resubmission is a user op like any other (onLocalOp fires; it can be undone).
   */
  resolveConflict(id: string, choice: "theirs" | "mine"): void {
    const item = this.conflicts.find((c) => c.id === id);
    if (!item) return;
    this.conflicts = this.conflicts.filter((c) => c !== item);
    if (choice === "mine") this.resubmit(item);
    void this.persistConflicts();
    this.changed();
  }

  private resubmit(item: ConflictItem): void {
    const { op } = item;
    const live = this.viewOf(item.blockId);
    if (item.reason === "deleted" || !live) {
      if (op.action === "delete" || live) return; // gone either way / someone restored it
      const b = item.block ?? this.lastSeen.get(item.blockId);
      if (b) this.recreate(b);
      return;
    }
    if (op.action === "delete") {
      this.delete(item.blockId);
      return;
    }
    const fields: UpdateFields = {};
    if (op.type !== undefined) fields.type = op.type;
    if (op.props !== undefined) fields.props = op.props;
    if (op.parent_id !== undefined) fields.parent_id = op.parent_id;
    if (op.content !== undefined) fields.content = op.content;
    for (const f of item.fields) {
      if (f.field === "content" && typeof f.mine === "string") fields.content = f.mine;
      else if (f.field === "type") fields.type = f.mine as UpdateFields["type"];
      else if (f.field === "props") fields.props = f.mine as UpdateFields["props"];
      else if (f.field === "parent_id") fields.parent_id = f.mine as UpdateFields["parent_id"];
    }
    // A text edit that did not conflict on content rides along as the text we showed.
    if (op.text_op !== undefined && fields.content === undefined && item.block)
      fields.content = item.block.content;
    if (Object.keys(fields).length > 0) this.update(item.blockId, fields);
    if (op.position) this.move(item.blockId, { after: op.position.after, before: op.position.before });
  }

  /** A block as last seen, under a new id, in the same place (after its last earlier neighbour). */
  private recreate(b: BlockJson): string {
    const order = this.getSnapshot().blocks;
    const prev = order.filter((x) => x.y_order < b.y_order).at(-1);
    const first = order[0];
    return this.create({
      type: b.type,
      content: b.content,
      props: b.props,
      parent_id: b.parent_id && this.viewOf(b.parent_id) ? b.parent_id : null,
      ...(prev
        ? { position: { after: prev.block_id } }
        : first
          ? { position: { before: first.block_id } }
          : {}),
    });
  }

  /**
   * RT-7: fire-and-forget cursor / focused block / typing through the current transport (socket:
   * `sync.presence`; REST: H3). Never queued: a presence that cannot go now is stale anyway.
   */
  sendPresence(input: PresenceInput): void {
    const t = this.current;
    if (!t || this.stopped) return;
    try {
      t.presence(input).catch(() => {});
    } catch {
      // best-effort
    }
  }

  /** presence / join / leave events (onOtherEvent keeps receiving them too). */
  onPresence(listener: (event: SyncEvent) => void): () => void {
    this.presenceListeners.add(listener);
    return () => this.presenceListeners.delete(listener);
  }

  /**
   * Every op the user makes (create/update/delete/move/editText — one per keystroke, uncomposed),
   * with the block as the view showed it before. Runs before the op is applied, so getSnapshot()
   * still returns the previous view inside the listener.
   */
  onLocalOp(listener: LocalOpListener): () => void {
    this.localOpListeners.add(listener);
    return () => this.localOpListeners.delete(listener);
  }

  /** Every applied `op` event that is not ours (live, replayed; not a snapshot reload). */
  onRemoteOp(listener: RemoteOpListener): () => void {
    this.remoteOpListeners.add(listener);
    return () => this.remoteOpListeners.delete(listener);
  }

  private emitLocal(op: Op): void {
    if (this.localOpListeners.size === 0) return;
    const before = this.viewOf(op.block_id);
    for (const l of this.localOpListeners) this.safely(() => l(op, before));
  }

  private safely(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.o.onError?.(error);
    }
  }

  /** One block of the view: confirmed with its pending ops applied. */
  private viewOf(blockId: string): BlockJson | undefined {
    const one = new Map<string, BlockJson>();
    const c = this.confirmed.get(blockId);
    if (c) one.set(blockId, c);
    for (const p of this.pending) if (p.op.block_id === blockId) applyPending(one, p, this.o.canvasId);
    return one.get(blockId);
  }

  // ---- incoming --------------------------------------------------------------------------

  private onEvent = (event: SyncEvent): void => {
    if (this.recovering || this.stopped) return;
    if (event.type === "resync") {
      void this.recover("full");
      return;
    }
    if (event.type !== "op") {
      this.o.onOtherEvent?.(event);
      for (const l of this.presenceListeners) this.safely(() => l(event));
      return;
    }
    const op = event as OpEvent;
    if (op.server_seq <= this.serverSeq) return; // duplicate (socket and poll overlapping)
    if ((op.prev_seq ?? 0) !== this.serverSeq) {
      void this.recover("replay");
      return;
    }
    if (!this.applyEvent(op)) {
      void this.recover("full");
      return;
    }
    void this.persist();
    this.changed();
    this.pump();
  };

  /**
   * RT-9: applies an event's delta to the confirmed state; false (nothing changed) when the delta
   * was not made against what we hold (unknown block, version gap): the caller reloads rather than
   * show a state the database does not have.
   */
  private applyEvent(e: OpEvent): boolean {
    const before = this.confirmed.get(e.block_id);
    const after = applyOpEvent(before, e);
    if (!after.ok) return false;
    // Ours by client_op_id alone: a delete's cascade to children carries our id on other blocks.
    const own = this.pending.some((p) => p.op.client_op_id === e.client_op_id);
    const info = own ? null : this.remoteInfo(e, before);
    if (!own && e.action === "delete") this.rememberDeleted(e.block_id);
    if (after.block) this.confirmed.set(e.block_id, after.block);
    else this.confirmed.delete(e.block_id);
    this.serverSeq = e.server_seq;
    this.pending = rebaseOverEvent(this.pending, e, before).filter(
      (p) => p.ackSeq === undefined || p.ackSeq > this.serverSeq,
    );
    if (info) for (const l of this.remoteOpListeners) this.safely(() => l(e, info));
    return true;
  }

  /** The event as the view sees it: its text_op past our pending text ops (as rebaseOverEvent does). */
  private remoteInfo(e: OpEvent, before: BlockJson | undefined): RemoteOpInfo {
    let theirs = (e.text_op as TextOp | undefined) ?? null;
    if (theirs)
      for (const p of this.pending)
        if (p.op.block_id === e.block_id && p.op.text_op !== undefined)
          theirs = textType.transform(theirs, p.op.text_op as TextOp, "right");
    return { viewTextOp: theirs, contentReplaced: contentReplaced(e, before) };
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

  private loadSnapshot(snap: Extract<SnapshotResult, { mode: "snapshot" }>): void {
    this.confirmed = new Map(snap.blocks.map((b) => [b.block_id, b]));
    this.serverSeq = snap.server_seq;
    this.pending = this.pending.filter((p) => p.ackSeq === undefined || p.ackSeq > this.serverSeq);
  }

  /** Gap (replay from serverSeq) or resync (full snapshot); pending ops stay on top. */
  /** Retries a failed recovery after its backoff, or as soon as the network comes back (UI-3). */
  private retryRecovery(kind: "replay" | "full"): void {
    if (this.recoveryRetry) return;
    const timer = this.later(
      () => {
        this.recoveryRetry = null;
        void this.recover(kind);
      },
      this.backoff(this.recoverAttempt++),
    );
    this.recoveryRetry = { timer, kind };
    const network = this.o.network;
    this.unwatchNetwork ??= network?.subscribe(() => {
      const retry = this.recoveryRetry;
      if (!retry || !network.online()) return;
      clearTimeout(retry.timer);
      this.timers.delete(retry.timer);
      this.recoveryRetry = null;
      void this.recover(retry.kind);
    });
  }

  private async recover(kind: "replay" | "full"): Promise<void> {
    if (this.stopped || (this.recovering && kind === "replay")) return;
    // The stream keeps running but is ignored until we resubscribe from the healed serverSeq.
    this.recovering = true;
    try {
      let snap = await this.o.rest.snapshot(kind === "full" ? undefined : this.serverSeq);
      if (snap.mode === "replay") {
        for (const e of snap.events) {
          if (e.server_seq <= this.serverSeq) continue;
          if ((e.prev_seq ?? 0) !== this.serverSeq || !this.applyEvent(e)) {
            snap = await this.o.rest.snapshot();
            break;
          }
        }
      }
      if (snap.mode === "snapshot") this.loadSnapshot(snap);
      this.recoverAttempt = 0;
    } catch (error) {
      this.recovering = false;
      if (this.stopped) return;
      if (error instanceof ClosedError) {
        this.close(error.reason);
        return;
      }
      this.setConnection("offline");
      this.retryRecovery(kind);
      return;
    }
    this.recovering = false;
    if (this.stopped) return;
    void this.persist();
    this.changed();
    this.link.connect();
  }

  // ---- helpers ---------------------------------------------------------------------------

  /**
   * 4403 / 4404 (or REST 403 / 404): the server will not serve this canvas to us again. Stops
   * like stop(), but the pending ops stay in the store, and the UI sees "closed" and why.
   */
  private close(reason: ClosedReason): void {
    if (this.closedReason) return;
    this.closedReason = reason;
    this.stop();
    this.connection = "closed";
    this.changed();
  }

  private setConnection(state: ConnectionState): void {
    if (this.connection === state) return;
    this.connection = state;
    this.changed();
  }

  private changed(): void {
    this.cached = null;
    for (const l of this.listeners) l();
  }

  private async persist(): Promise<void> {
    try {
      await this.o.store.save(this.pending);
    } catch (error) {
      this.o.onError?.(error);
    }
  }

  private async persistConflicts(): Promise<void> {
    try {
      await this.o.store.saveConflicts?.(this.conflicts);
    } catch (error) {
      this.o.onError?.(error);
    }
  }

  private later(fn: () => void, ms: number): ReturnType<typeof setTimeout> {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.stopped) fn();
    }, ms);
    this.timers.add(t);
    return t;
  }

  private backoff(attempt: number): number {
    return Math.min(this.o.backoffMaxMs, this.o.backoffBaseMs * 2 ** Math.max(0, attempt));
  }

  private now(): number {
    return (this.o.now ?? Date.now)();
  }

  private uuid(): string {
    return (this.o.randomUUID ?? (() => crypto.randomUUID()))();
  }
}

/** A text edit's "mine" as a string: its op applied to the base content the server reported. */
function textMine(f: ConflictField, op: Op): string | null {
  if (typeof f.base !== "string" || op.text_op === undefined) return null;
  try {
    return textType.apply(f.base, op.text_op as TextOp);
  } catch {
    return null; // the op does not fit that base: the caller falls back to the view
  }
}

/** The text op taking `after` back to `before`: the inverse of `op` when it was a text op, else a diff. */
function invertText(op: TextOp | undefined, before: string, after: string): TextOp | null {
  if (op !== undefined) {
    try {
      const inverse = invertTextOp(op, before);
      if (textType.apply(after, inverse) === before) return inverse;
    } catch {
      // not invertible against this text: fall back to the diff
    }
  }
  return diffOp(after, before);
}
