import { wireOf } from "./localOps";
import type { SyncEngineOptions } from "./options";
import type { BudgetId, Pacer } from "./pacer";
import { selectBatch, withoutRejected } from "./pendingQueue";
import type { PendingOp } from "./pendingStore";
import { handleResults } from "./results";
import type { SyncStore } from "./store";
import type { BlockJson, ClosedReason, Op, OpResult, SyncTransport } from "./types";
import { ClosedError, TransientError, WriteRevokedError } from "./types";

type Timer = ReturnType<typeof setTimeout>;

export interface SenderDeps extends Pick<SyncEngineOptions, "onConflict" | "onError"> {
  store: SyncStore;
  canvasId: string;
  batchWindowMs: number;
  maxBatchMs: number;
  pacer: Pacer | null;
  /** The engine runs and is not healing its state (a recovery holds sending back). */
  mayRun(): boolean;
  /** The transport mutations may use now (null: none). */
  transport(): SyncTransport | null;
  ended(): boolean;
  /** The view in document order (where a refused create is re-placed). */
  view(): readonly BlockJson[];
  /** The server ended our access. */
  closed(reason: ClosedReason): void;
  /** Our ops await their events: a polling client fetches now. */
  refresh(): void;
  later(fn: () => void, ms: number): Timer;
  backoff(attempt: number): number;
  now(): number;
  uuid(): string;
}

/** The budgets a mutate request spends (pacer.ts): MUT-7 always, RT-6 on the socket. */
function budgets(t: SyncTransport): BudgetId[] {
  return t.kind === "websocket" ? ["RPC", "H1"] : ["RPC"];
}

/**
 * UI-3: sends the pending queue, one request at a time: keystroke batches once their window
 * closes (pendingQueue.ts: selectBatch), paced under MUT-7 and RT-6, each payload frozen when it
 * first goes out (resends are byte-identical, MUT-3). Transient failures back off and resend;
 * the answer goes through handleResults.
 */
export class Sender {
  /** A mutate request is out; the next waits for its answer. */
  private inflight = false;
  private attempt = 0;
  private timer: Timer | undefined;

  constructor(private readonly d: SenderDeps) {}

  /** Sends what may go now, or arms one timer for when it may. */
  pump(): void {
    const t = this.d.transport();
    if (this.inflight || !this.d.mayRun() || !t || !this.d.store.writable) return;
    const now = this.d.now();
    const { batch, waitMs } = selectBatch(this.d.store.pending, now, this.d.batchWindowMs, this.d.maxBatchMs);
    // MUT-7 / RT-6: wait for the budget rather than be refused; keystrokes keep composing meanwhile.
    const paced = batch.length > 0 && this.d.pacer ? this.d.pacer.delay(budgets(t), now) : 0;
    if ((waitMs !== undefined && batch.length === 0) || paced > 0) {
      if (this.timer === undefined) {
        this.timer = this.d.later(
          () => {
            this.timer = undefined;
            this.pump();
          },
          paced > 0 ? paced : (waitMs as number),
        );
      }
      return;
    }
    if (batch.length === 0) return;
    this.d.pacer?.take(budgets(t), now);
    for (const p of batch) p.wire ??= wireOf(p, this.d.store.confirmed);
    this.inflight = true;
    void this.send(t, batch);
  }

  /** The engine cleared its timers (stop). */
  stopped(): void {
    this.timer = undefined;
  }

  private async send(transport: SyncTransport, batch: PendingOp[]): Promise<void> {
    const s = this.d.store;
    await s.persist();
    let results: OpResult[];
    try {
      results = (await transport.mutate(batch.map((p) => p.wire as Op))).results;
    } catch (error) {
      this.inflight = false;
      if (!this.d.ended()) this.failed(error, batch);
      return;
    }
    this.inflight = false;
    if (this.d.ended()) return;
    const out = handleResults(batch, results, {
      pending: s.pending,
      confirmed: s.confirmed,
      serverSeq: s.serverSeq,
      canvasId: this.d.canvasId,
      view: this.d.view(),
      lastSeen: s.lastSeen,
      uuid: this.d.uuid,
    });
    s.pending = out.pending;
    if (out.conflicts.length > 0) {
      s.conflicts = [...s.conflicts, ...out.conflicts];
      void s.persistConflicts();
    }
    for (const n of out.notices) {
      if (n.kind === "conflict") this.d.onConflict?.(n.result, n.op);
      else this.d.onError?.(n.error, n.op);
    }
    this.attempt = out.retry ? this.attempt : 0;
    void s.persist();
    s.changed();
    if (out.acked) this.d.refresh();
    if (out.retry) this.d.later(() => this.pump(), this.d.backoff(this.attempt++));
    else this.pump();
  }

  /** A mutate request that got no answer. */
  private failed(error: unknown, batch: readonly PendingOp[]): void {
    const s = this.d.store;
    if (error instanceof ClosedError) {
      // The ops stay queued (and stored): nothing retries, nothing is lost.
      this.d.closed(error.reason);
      return;
    }
    if (error instanceof WriteRevokedError) {
      // Turned reader: keep reading live; the ops stay stored (a writer again sends them after
      // a reload), nothing retries.
      s.writable = false;
      s.changed();
      return;
    }
    if (error instanceof TransientError) {
      this.d.later(() => this.pump(), this.d.backoff(this.attempt++));
      return;
    }
    for (const p of batch) s.pending = withoutRejected(s.pending, p, s.confirmed, this.d.canvasId);
    for (const p of batch) this.d.onError?.(error, p.op);
    void s.persist();
    s.changed();
    this.pump();
  }
}
