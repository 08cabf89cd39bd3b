import { type as textType } from "ot-text-unicode";
import { applyPending, byDocumentOrder } from "./localApply";
import { canComposeKeystroke, rebaseOverEvent, selectBatch } from "./pendingQueue";
import type { PendingOp } from "./pendingStore";
import { SyncConnection } from "./syncConnection";
import type { ConnectionState, CreateInput, SyncEngineOptions, SyncState, UpdateFields } from "./syncOptions";
import type {
  BlockJson,
  Op,
  OpEvent,
  OpResult,
  SnapshotResult,
  SyncEvent,
  SyncTransport,
  TextOp,
} from "./syncTypes";
import { TransientError } from "./syncTypes";
import { yOrderFor } from "./yOrder";

export type { ConnectionState, CreateInput, SyncEngineOptions, SyncState, UpdateFields };

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
  private readonly link: SyncConnection;
  private current: SyncTransport | null = null;
  private pumpTimer: ReturnType<typeof setTimeout> | undefined;
  private timers = new Set<ReturnType<typeof setTimeout>>();
  private listeners = new Set<() => void>();
  private cached: SyncState | null = null;
  private readonly o: Required<
    Pick<
      SyncEngineOptions,
      "batchWindowMs" | "maxSocketFailures" | "socketRetryMs" | "backoffBaseMs" | "backoffMaxMs"
    >
  > &
    SyncEngineOptions;

  constructor(options: SyncEngineOptions) {
    this.o = {
      batchWindowMs: 50,
      maxSocketFailures: 3,
      socketRetryMs: 30_000,
      backoffBaseMs: 500,
      backoffMaxMs: 30_000,
      ...options,
    };
    this.link = new SyncConnection({
      ws: options.ws,
      rest: options.rest,
      mode: options.ws && options.realtimeMode !== "polling" ? "websocket" : "polling",
      maxSocketFailures: this.o.maxSocketFailures,
      socketRetryMs: this.o.socketRetryMs,
      seq: () => this.serverSeq,
      onEvent: this.onEvent,
      onState: (state, transport) => {
        this.current = transport;
        this.setConnection(state);
        this.pump();
      },
      later: (fn, ms) => void this.later(fn, ms),
      backoff: (attempt) => this.backoff(attempt),
    });
    if (options.initial) this.loadSnapshot({ mode: "snapshot", ...options.initial });
  }

  // ---- lifecycle -------------------------------------------------------------------------

  /** Loads the durable queue and the snapshot, then connects and resends what is pending. */
  async start(): Promise<void> {
    this.pending = [...(await this.o.store.load()), ...this.pending];
    this.started = true;
    if (!this.o.initial) {
      try {
        const snap = await this.o.rest.snapshot();
        if (snap.mode === "snapshot") this.loadSnapshot(snap);
      } catch (error) {
        this.o.onError?.(error);
        this.setConnection("offline");
        this.later(() => void this.recover("full"), this.backoff(this.recoverAttempt++));
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
    this.enqueue({ op, yOrder: this.localYOrder(blockId, input.position) });
    return blockId;
  }

  update(blockId: string, fields: UpdateFields): void {
    this.enqueue({ op: this.baseOp("update", blockId, fields) });
  }

  delete(blockId: string): void {
    this.enqueue({ op: this.baseOp("delete", blockId, {}) });
  }

  move(blockId: string, position: { after?: string; before?: string }): void {
    this.enqueue({
      op: this.baseOp("update", blockId, { position: { after: position.after, before: position.before } }),
      yOrder: this.localYOrder(blockId, position),
    });
  }

  /** A text edit (ot-text-unicode op on the current local content); keystrokes are batched. */
  editText(blockId: string, textOp: TextOp): void {
    const last = this.pending.at(-1);
    const now = this.now();
    if (last && canComposeKeystroke(last, blockId, now, this.o.batchWindowMs)) {
      last.op.text_op = textType.compose(last.op.text_op as TextOp, textOp) as Op["text_op"];
      last.touchedAt = now;
      this.queueChanged();
      return;
    }
    this.enqueue({
      op: this.baseOp("update", blockId, { text_op: textOp as Op["text_op"] }),
      touchedAt: now,
    });
  }

  /** Sends batched keystrokes now (blur, unload). */
  flush(): void {
    for (const p of this.pending) p.touchedAt = undefined;
    this.pump();
  }

  private baseOp(action: "update" | "delete", blockId: string, fields: Partial<Op>): Op {
    const base = this.confirmed.get(blockId)?.version;
    return {
      client_op_id: this.uuid(),
      action,
      block_id: blockId,
      ...(base !== undefined ? { base_version: base } : {}),
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
    if (this.inflight || this.recovering || this.stopped || !this.started || !this.current) return;
    const { batch, waitMs } = selectBatch(this.pending, this.now(), this.o.batchWindowMs);
    if (waitMs !== undefined && batch.length === 0) {
      if (this.pumpTimer === undefined) {
        this.pumpTimer = this.later(() => {
          this.pumpTimer = undefined;
          this.pump();
        }, waitMs);
      }
      return;
    }
    if (batch.length === 0) return;
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
      if (error instanceof TransientError) {
        this.later(() => this.pump(), this.backoff(this.sendAttempt++));
      } else {
        this.pending = this.pending.filter((p) => !batch.includes(p));
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
      if (!r || (r.status === "failed" && r.error?.code === "rate_limited")) retry = true;
      else if (r.status === "success") {
        if (r.server_seq === null || r.server_seq <= this.serverSeq) this.drop(p);
        else {
          p.ackSeq = r.server_seq;
          acked = true;
        }
      } else {
        this.drop(p);
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

  private drop(p: PendingOp): void {
    this.pending = this.pending.filter((x) => x !== p);
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
      return;
    }
    const op = event as OpEvent;
    if (op.server_seq <= this.serverSeq) return; // duplicate (socket and poll overlapping)
    if ((op.prev_seq ?? 0) !== this.serverSeq) {
      void this.recover("replay");
      return;
    }
    this.applyEvent(op);
    void this.persist();
    this.changed();
    this.pump();
  };

  private applyEvent(e: OpEvent): void {
    const before = this.confirmed.get(e.block_id);
    if (e.block && e.action !== "delete") this.confirmed.set(e.block_id, e.block);
    else this.confirmed.delete(e.block_id);
    this.serverSeq = e.server_seq;
    this.pending = rebaseOverEvent(this.pending, e, before).filter(
      (p) => p.ackSeq === undefined || p.ackSeq > this.serverSeq,
    );
  }

  private loadSnapshot(snap: Extract<SnapshotResult, { mode: "snapshot" }>): void {
    this.confirmed = new Map(snap.blocks.map((b) => [b.block_id, b]));
    this.serverSeq = snap.server_seq;
    this.pending = this.pending.filter((p) => p.ackSeq === undefined || p.ackSeq > this.serverSeq);
  }

  /** Gap (replay from serverSeq) or resync (full snapshot); pending ops stay on top. */
  private async recover(kind: "replay" | "full"): Promise<void> {
    if (this.stopped || (this.recovering && kind === "replay")) return;
    // The stream keeps running but is ignored until we resubscribe from the healed serverSeq.
    this.recovering = true;
    try {
      let snap = await this.o.rest.snapshot(kind === "full" ? undefined : this.serverSeq);
      if (snap.mode === "replay") {
        for (const e of snap.events) {
          if (e.server_seq <= this.serverSeq) continue;
          if ((e.prev_seq ?? 0) !== this.serverSeq) {
            snap = await this.o.rest.snapshot();
            break;
          }
          this.applyEvent(e);
        }
      }
      if (snap.mode === "snapshot") this.loadSnapshot(snap);
      this.recoverAttempt = 0;
    } catch (_error) {
      this.recovering = false;
      if (this.stopped) return;
      this.setConnection("offline");
      this.later(() => void this.recover(kind), this.backoff(this.recoverAttempt++));
      return;
    }
    this.recovering = false;
    if (this.stopped) return;
    void this.persist();
    this.changed();
    this.link.connect();
  }

  // ---- helpers ---------------------------------------------------------------------------

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
