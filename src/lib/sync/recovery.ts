import type { NetworkStatus } from "./network";
import type { OpEvent, SnapshotResult } from "./types";
import { ClosedError } from "./types";

export type RecoveryKind = "replay" | "full";

type Timer = ReturnType<typeof setTimeout>;

export interface RecoveryDeps {
  /** H4: the ops after `sinceSeq`, or (no argument) a full snapshot. */
  snapshot(sinceSeq?: number): Promise<SnapshotResult>;
  serverSeq(): number;
  /** Applies a replayed event to the confirmed state; false when its delta does not fit (RT-9). */
  apply(e: OpEvent): boolean;
  load(snap: Extract<SnapshotResult, { mode: "snapshot" }>): void;
  /** Healed: persist, tell the UI, resubscribe from the healed serverSeq. */
  recovered(): void;
  /** It failed (the badge says Offline until a retry works). */
  failed(): void;
  /** The server ended our access. */
  closed(error: ClosedError): void;
  later(fn: () => void, ms: number): Timer;
  cancel(timer: Timer): void;
  backoff(attempt: number): number;
  network?: NetworkStatus;
  stopped(): boolean;
}

/**
 * UI-3 / RT-5: healing the confirmed state — a gap replays the ops after serverSeq (H4 since_seq),
 * a resync or a delta that does not fit reloads a snapshot; pending ops stay on top either way.
 * A recovery that failed is retried after its backoff, or as soon as the network comes back.
 */
export class Recovery {
  /** The recovery running now: the stream's events are ignored until it resubscribes. */
  private runningKind: RecoveryKind | null = null;
  /** A recovery waiting for its backoff. */
  private retry: { timer: Timer; kind: RecoveryKind } | null = null;
  private attempt = 0;
  private unwatch: (() => void) | undefined;

  constructor(private readonly d: RecoveryDeps) {}

  get running(): boolean {
    return this.runningKind !== null;
  }

  async run(kind: RecoveryKind): Promise<void> {
    if (this.d.stopped() || (this.runningKind !== null && kind === "replay")) return;
    this.runningKind = kind;
    try {
      let snap = await this.d.snapshot(kind === "full" ? undefined : this.d.serverSeq());
      if (snap.mode === "replay") {
        for (const e of snap.events) {
          if (e.server_seq <= this.d.serverSeq()) continue;
          if ((e.prev_seq ?? 0) !== this.d.serverSeq() || !this.d.apply(e)) {
            snap = await this.d.snapshot();
            break;
          }
        }
      }
      if (snap.mode === "snapshot") this.d.load(snap);
      this.attempt = 0;
    } catch (error) {
      this.runningKind = null;
      if (this.d.stopped()) return;
      if (error instanceof ClosedError) {
        this.d.closed(error);
        return;
      }
      this.d.failed();
      this.retryLater(kind);
      return;
    }
    this.runningKind = null;
    if (this.d.stopped()) return;
    this.d.recovered();
  }

  /** Runs `kind` after its backoff, or at once when the network returns. */
  retryLater(kind: RecoveryKind): void {
    if (this.retry) return;
    const timer = this.d.later(
      () => {
        this.retry = null;
        void this.run(kind);
      },
      this.d.backoff(this.attempt++),
    );
    this.retry = { timer, kind };
    const network = this.d.network;
    this.unwatch ??= network?.subscribe(() => {
      const retry = this.retry;
      if (!retry || !network.online()) return;
      this.d.cancel(retry.timer);
      this.retry = null;
      void this.run(retry.kind);
    });
  }

  /** Forgets a pending retry and stops listening to the network (the engine clears its timers). */
  stop(): void {
    this.unwatch?.();
    this.unwatch = undefined;
    this.retry = null;
  }
}
