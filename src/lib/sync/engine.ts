import { type as textType } from "ot-text-unicode";
import { recreateInput, resubmission } from "./conflicts";
import { SyncConnection } from "./connection";
import type { ConnectionState } from "./connectionState";
import {
  EngineListeners,
  type LocalOpListener,
  type PresenceListener,
  type RemoteOpListener,
} from "./listeners";
import { baseOp, createOp } from "./localOps";
import type { CreateInput, SyncEngineOptions, UpdateFields } from "./options";
import { Pacer } from "./pacer";
import { canComposeKeystroke } from "./pendingQueue";
import type { PendingOp } from "./pendingStore";
import { PresenceSender } from "./presenceSender";
import { Recovery } from "./recovery";
import { Sender } from "./sender";
import { SyncStore } from "./store";
import type {
  ClosedReason,
  ConflictItem,
  Op,
  OpEvent,
  PresenceInput,
  SyncEvent,
  SyncTransport,
  TextOp,
} from "./types";
import { ClosedError } from "./types";
import { yOrderFor } from "./yOrder";

export type { LocalOpListener, RemoteOpListener };

/** The engine's life: built, running (after start loaded the queue), or ended. */
type Phase =
  | { name: "new" }
  | { name: "running" }
  | { name: "stopped" }
  | { name: "closed"; reason: ClosedReason };

type Timer = ReturnType<typeof setTimeout>;

/**
 * UI-3: the client sync engine. The confirmed state is exactly a prefix of the server's op log
 * (advanced only by `op` events, in `prev_seq` order); the view is that state with the pending
 * ops applied on top. A `success` result only marks its op acknowledged: the op leaves the queue
 * when its event arrives, so an op committed before ours but delivered after our result can
 * never be applied twice. Once sent, an op's payload is frozen (resends are byte-identical,
 * MUT-3); only its local copy keeps being rebased for display.
 *
 * The parts: store.ts (what it knows, and the UI's store), connection.ts (which stream, the
 * badge), recovery.ts (gaps, resyncs), results.ts (what an answer does to the queue),
 * conflicts.ts (the panel's items, "Keep mine"), pendingQueue.ts (batching, rebasing),
 * pacer.ts (the server's budgets), presenceSender.ts.
 */
export class SyncEngine {
  private phase: Phase = { name: "new" };
  private readonly s: SyncStore;
  private readonly on: EngineListeners;
  private readonly link: SyncConnection;
  private readonly recovery: Recovery;
  private readonly presence: PresenceSender;
  private readonly sender: Sender;
  private current: SyncTransport | null = null;
  private timers = new Set<Timer>();
  private readonly pacer: Pacer | null;
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
    const onError = (error: unknown) => this.o.onError?.(error);
    this.s = new SyncStore({
      canvasId: options.canvasId,
      store: options.store,
      closedReason: () => (this.phase.name === "closed" ? this.phase.reason : null),
      onError,
    });
    this.on = new EngineListeners(onError);
    this.subscribe = this.s.subscribe;
    this.getSnapshot = this.s.getSnapshot;
    this.pacer = options.pacing === false ? null : (options.pacing ?? new Pacer());
    this.link = new SyncConnection({
      ws: options.ws,
      rest: options.rest,
      mode: options.ws && options.realtimeMode !== "polling" ? "websocket" : "polling",
      maxSocketFailures: this.o.maxSocketFailures,
      socketRetryMs: this.o.socketRetryMs,
      ...(options.network ? { network: options.network } : {}),
      seq: () => this.s.serverSeq,
      onEvent: this.onEvent,
      onState: (state, transport) => {
        this.current = transport;
        this.setConnection(state);
        this.sender.pump();
      },
      onClosed: (reason) => this.close(reason),
      later: (fn, ms) => void this.later(fn, ms),
      backoff: (attempt) => this.backoff(attempt),
    });
    this.recovery = new Recovery({
      snapshot: (since) => this.o.rest.snapshot(since),
      serverSeq: () => this.s.serverSeq,
      apply: (e) => this.applyEvent(e),
      load: (snap) => this.s.load(snap),
      recovered: () => {
        void this.s.persist();
        this.s.changed();
        this.link.connect();
      },
      failed: () => this.setConnection("offline"),
      closed: (error) => this.close(error.reason),
      later: (fn, ms) => this.later(fn, ms),
      cancel: (timer) => {
        clearTimeout(timer);
        this.timers.delete(timer);
      },
      backoff: (attempt) => this.backoff(attempt),
      ...(options.network ? { network: options.network } : {}),
      stopped: () => this.ended,
    });
    this.sender = new Sender({
      store: this.s,
      canvasId: options.canvasId,
      batchWindowMs: this.o.batchWindowMs,
      maxBatchMs: this.o.maxBatchMs,
      pacer: this.pacer,
      mayRun: () => this.phase.name === "running" && !this.recovery.running,
      transport: () => this.current,
      ended: () => this.ended,
      view: () => this.getSnapshot().blocks,
      closed: (reason) => this.close(reason),
      refresh: () => this.link.refresh(),
      later: (fn, ms) => this.later(fn, ms),
      backoff: (attempt) => this.backoff(attempt),
      now: () => this.now(),
      uuid: () => this.uuid(),
      onConflict: (r, op) => this.o.onConflict?.(r, op),
      onError: (e, op) => this.o.onError?.(e, op),
    });
    this.presence = new PresenceSender({
      transport: () => (this.ended ? null : this.current),
      pacer: this.pacer,
      now: () => this.now(),
      later: (fn, ms) => void this.later(fn, ms),
    });
    if (options.initial) this.s.load({ mode: "snapshot", ...options.initial });
  }

  // ---- lifecycle -------------------------------------------------------------------------

  /** Loads the durable queue and the snapshot, then connects and resends what is pending. */
  async start(): Promise<void> {
    const s = this.s;
    // Ops made before start() are in the store already (every change is persisted): once each.
    const stored = await this.o.store.load();
    const made = new Set(s.pending.map((p) => p.op.client_op_id));
    s.pending = [...stored.filter((p) => !made.has(p.op.client_op_id)), ...s.pending];
    // Conflicts the user had not decided before a reload are shown again (nothing lost silently).
    const kept = (await this.o.store.loadConflicts?.().catch(() => [])) ?? [];
    s.conflicts = [...kept.filter((k) => !s.conflicts.some((c) => c.id === k.id)), ...s.conflicts];
    if (this.phase.name === "new") this.phase = { name: "running" };
    if (!this.o.initial) {
      try {
        const snap = await this.o.rest.snapshot();
        if (snap.mode === "snapshot") s.load(snap);
      } catch (error) {
        if (error instanceof ClosedError) {
          this.close(error.reason);
          return;
        }
        this.o.onError?.(error);
        this.setConnection("offline");
        this.recovery.retryLater("full");
        s.changed();
        return;
      }
    }
    s.changed();
    this.link.connect();
  }

  /** Idempotent: closes the subscription and clears every timer. */
  stop(): void {
    if (!this.ended) this.phase = { name: "stopped" };
    this.link.stop();
    this.recovery.stop();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.sender.stopped();
  }

  private get ended(): boolean {
    return this.phase.name === "stopped" || this.phase.name === "closed";
  }

  // ---- UI store --------------------------------------------------------------------------

  /** useSyncExternalStore's subscribe. */
  readonly subscribe: SyncStore["subscribe"];
  /** What the UI reads (stable between changes). */
  readonly getSnapshot: SyncStore["getSnapshot"];

  /** A1 told us the mode (OPS-6 may switch a canvas to polling, and back). */
  setRealtimeMode(mode: "websocket" | "polling"): void {
    if (this.phase.name === "running") this.link.setMode(mode);
  }

  // ---- local ops -------------------------------------------------------------------------

  create(input: CreateInput): string {
    const blockId = input.block_id ?? this.uuid();
    const op = createOp(input, blockId, this.uuid());
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
      textType.apply(this.s.viewOf(blockId)?.content ?? "", textOp);
    } catch (error) {
      // A caller bug (an op for other text): the server would refuse it, and undo could not invert it.
      this.o.onError?.(error);
      return;
    }
    const last = this.s.pending.at(-1);
    const now = this.now();
    if (last && canComposeKeystroke(last, blockId)) {
      // Undo wants every keystroke as typed, not the composed batch.
      this.emitLocal({ ...last.op, text_op: textOp as Op["text_op"] });
      last.op.text_op = textType.compose(last.op.text_op as TextOp, textOp) as Op["text_op"];
      last.touchedAt = now;
      // Keystrokes that cancel out ("a", Backspace) leave nothing to send (the server refuses an
      // empty text_op).
      if ((last.op.text_op as TextOp).length === 0) this.s.pending = this.s.pending.filter((x) => x !== last);
      this.queueChanged();
      return;
    }
    const op = this.baseOp("update", blockId, { text_op: textOp as Op["text_op"] });
    this.emitLocal(op);
    this.enqueue({ op, touchedAt: now, startedAt: now });
  }

  /** Sends batched keystrokes now (blur, unload). */
  flush(): void {
    for (const p of this.s.pending) p.touchedAt = undefined;
    this.sender.pump();
  }

  private baseOp(action: "update" | "delete", blockId: string, fields: Partial<Op>): Op {
    return baseOp(action, blockId, fields, this.s.confirmed, this.s.pending, this.uuid());
  }

  private localYOrder(blockId: string, position?: { after?: string; before?: string }): string {
    return yOrderFor(this.getSnapshot().blocks, blockId, position);
  }

  private emitLocal(op: Op): void {
    if (this.on.local.size > 0) this.on.emitLocal(op, this.s.viewOf(op.block_id));
  }

  private enqueue(p: PendingOp): void {
    this.s.pending.push(p);
    this.queueChanged();
  }

  private queueChanged(): void {
    void this.s.persist();
    this.s.changed();
    this.sender.pump();
  }

  // ---- conflicts, presence, listeners (UI-4, UI-5, RT-7) ---------------------------------

  /**
   * UI-4: "theirs" keeps the server's state (nothing is sent); "mine" queues new ops (new
   * client_op_id, base_version = the current confirmed version) that set the conflicted fields
   * to `mine` (conflicts.ts: resubmission). The resubmission is a user op like any other
   * (onLocalOp fires; it can be undone).
   */
  resolveConflict(id: string, choice: "theirs" | "mine"): void {
    const item = this.s.conflicts.find((c) => c.id === id);
    if (!item) return;
    this.s.conflicts = this.s.conflicts.filter((c) => c !== item);
    if (choice === "mine") this.resubmit(item);
    void this.s.persistConflicts();
    this.s.changed();
  }

  private resubmit(item: ConflictItem): void {
    const plan = resubmission(item, this.s.viewOf(item.blockId), this.s.lastSeen.get(item.blockId));
    if (plan.kind === "recreate") {
      const { byId, blocks } = this.getSnapshot();
      this.create(recreateInput(plan.block, byId, blocks));
    } else if (plan.kind === "delete") this.delete(item.blockId);
    else if (plan.kind === "update") {
      if (Object.keys(plan.fields).length > 0) this.update(item.blockId, plan.fields);
      if (plan.position) this.move(item.blockId, plan.position);
    }
  }

  /** RT-7: fire-and-forget cursor / focused block / typing (presenceSender.ts). */
  sendPresence(input: PresenceInput): void {
    this.presence.send(input);
  }

  /** presence / join / leave events (onOtherEvent keeps receiving them too). */
  onPresence(listener: PresenceListener): () => void {
    return this.on.add(this.on.presence, listener);
  }

  /**
   * Every op the user makes (create/update/delete/move/editText — one per keystroke, uncomposed),
   * with the block as the view showed it before. Runs before the op is applied, so getSnapshot()
   * still returns the previous view inside the listener.
   */
  onLocalOp(listener: LocalOpListener): () => void {
    return this.on.add(this.on.local, listener);
  }

  /** Every applied `op` event that is not ours (live, replayed; not a snapshot reload). */
  onRemoteOp(listener: RemoteOpListener): () => void {
    return this.on.add(this.on.remote, listener);
  }

  // ---- incoming --------------------------------------------------------------------------

  private onEvent = (event: SyncEvent): void => {
    if (this.recovery.running || this.ended) return;
    if (event.type === "resync") {
      void this.recovery.run("full");
      return;
    }
    if (event.type !== "op") {
      this.o.onOtherEvent?.(event);
      this.on.emitPresence(event);
      return;
    }
    const op = event as OpEvent;
    if (op.server_seq <= this.s.serverSeq) return; // duplicate (socket and poll overlapping)
    if ((op.prev_seq ?? 0) !== this.s.serverSeq) {
      void this.recovery.run("replay");
      return;
    }
    if (!this.applyEvent(op)) {
      void this.recovery.run("full");
      return;
    }
    void this.s.persist();
    this.s.changed();
    this.sender.pump();
  };

  /** RT-9: false when the delta does not fit what we hold (the caller reloads). */
  private applyEvent(e: OpEvent): boolean {
    const applied = this.s.apply(e);
    if (applied.ok && applied.remote) this.on.emitRemote(e, applied.remote);
    return applied.ok;
  }

  // ---- helpers ---------------------------------------------------------------------------

  /**
   * 4403 / 4404 (or REST 403 / 404): the server will not serve this canvas to us again. Stops
   * like stop(), but the pending ops stay in the store, and the UI sees "closed" and why.
   */
  private close(reason: ClosedReason): void {
    if (this.phase.name === "closed") return;
    this.phase = { name: "closed", reason };
    this.stop();
    this.s.connection = "closed";
    this.s.changed();
  }

  private setConnection(state: ConnectionState): void {
    if (this.s.connection === state) return;
    this.s.connection = state;
    this.s.changed();
  }

  private later(fn: () => void, ms: number): Timer {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.ended) fn();
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
