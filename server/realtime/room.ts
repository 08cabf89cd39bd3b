import type { Database } from "../db/sql";
import type { Bus } from "../ports/bus";
import type { OpEvent } from "../protocol/ops";
import { type CanvasBusMessage, canvasChannel } from "../services/canvasSync";
import { canvasHead, eventsAfter } from "./eventLog";
import type { Subscriber } from "./subscriber";

/** How many ops a since_seq replay may carry before the client is told to resync (RT-5). */
export const REPLAY_LIMIT = 1_000;

/**
 * Rooms with at least this many subscribers batch their live deliveries: at most one flush per
 * BATCH_WINDOW_MS, so that each socket gets one write for all the ops of a window instead of one
 * per op. The write syscall per socket dominates the fan-out's CPU (`npm run bench:fanout`);
 * an op arriving after a quiet spell still goes out at once, so this only delays ops when the
 * room is busy, by less than the window.
 */
export const BATCH_MIN_SUBSCRIBERS = 64;
export const BATCH_WINDOW_MS = 16;

export interface RoomDeps {
  db: Database;
  bus: Bus;
  onError: (error: unknown, context: string) => void;
  /** Delay between an op's commit-side publish and its delivery here, for OPS-1. */
  onFanout?: (events: number, deliveries: number) => void;
}

/**
 * All `sync.events` subscribers of one canvas in this process (RT-3..5). Events arrive from the
 * bus in groups; the room keeps the `prev_seq` chain: a hole (a lost pub/sub message, a Redis
 * restart) is filled from the op log before anything later is delivered, so every subscriber
 * gets every op once, in server_seq order. Work is serialised per room.
 */
export class CanvasRoom {
  readonly subscribers = new Set<Subscriber>();
  /** server_seq of the last op delivered (the chain head as this room knows it). */
  private head = 0;
  /** server_seq of the last op handed to the subscribers (≤ head while a batch waits). */
  private flushed = 0;
  /** Ops delivered to the room but not yet to its subscribers (see BATCH_WINDOW_MS). */
  private pending: { seq: number; json: string }[] = [];
  private flushTimer: NodeJS.Timeout | null = null;
  private lastFlush = Number.NEGATIVE_INFINITY;
  private chain: Promise<void> = Promise.resolve();
  private unsubscribe: (() => Promise<void>) | null = null;
  private closed = false;

  constructor(
    readonly canvasId: string,
    private readonly deps: RoomDeps,
  ) {}

  /** Subscribes to the bus first, then reads the head, so nothing falls between the two. */
  async open(): Promise<void> {
    this.unsubscribe = await this.deps.bus.subscribe(canvasChannel(this.canvasId), (message) => {
      this.enqueue(() => this.onBusMessage(message));
    });
    this.head = (await canvasHead(this.deps.db, this.canvasId)) ?? 0;
    this.flushed = this.head;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    this.pending = [];
    await this.unsubscribe?.();
    this.unsubscribe = null;
  }

  /** RT-4: after the bus reconnects (or on a timer) the room catches up from the op log. */
  catchUp(): Promise<void> {
    return this.enqueue(() => this.fillTo(Number.POSITIVE_INFINITY));
  }

  /**
   * RT-5: replays the ops after `sinceSeq` to one subscriber, then switches it to live.
   * Returns false when the replay cannot be complete (too old, or ahead of the log): the caller
   * sends `resync`.
   */
  async attach(sub: Subscriber, sinceSeq: number | null): Promise<boolean> {
    this.subscribers.add(sub);
    if (sinceSeq === null) {
      // Live from the last op handed out on (a waiting batch reaches this subscriber too).
      await this.enqueue(async () => {
        sub.lastSent = this.flushed;
        sub.goLive();
      });
      return true;
    }
    sub.lastSent = sinceSeq;
    const events = await eventsAfter(this.deps.db, this.canvasId, sinceSeq, REPLAY_LIMIT + 1);
    const head = (await canvasHead(this.deps.db, this.canvasId)) ?? 0;
    const first = events[0];
    // Complete when the first replayed op chains onto since_seq (nothing pruned in between) and
    // the replay is not too long; with nothing to replay, since_seq must be the head itself.
    const complete =
      sinceSeq <= head &&
      events.length <= REPLAY_LIMIT &&
      (first ? (first.prev_seq === null ? 0 : Number(first.prev_seq)) === sinceSeq : sinceSeq === head);
    if (!complete) {
      sub.buffer = null;
      sub.lastSent = head;
      return false;
    }
    for (const event of events) sub.sendReplayed(Number(event.server_seq), JSON.stringify(event));
    // Flush through the room's queue so that whatever it is delivering right now comes after.
    await this.enqueue(async () => {
      // Bring the subscriber up to the room's head should the room be ahead of our read.
      if (sub.buffer && sub.lastSent < this.head) {
        for (const event of await eventsAfter(this.deps.db, this.canvasId, sub.lastSent, REPLAY_LIMIT)) {
          sub.sendReplayed(Number(event.server_seq), JSON.stringify(event));
        }
      }
      sub.goLive();
    });
    return true;
  }

  detach(sub: Subscriber): void {
    this.subscribers.delete(sub);
  }

  /** Sends an untracked event (presence, join, leave) to every subscriber, serialised once. */
  broadcastPlain(event: unknown, except?: string): void {
    const json = JSON.stringify(event);
    for (const sub of this.subscribers) if (sub.userId !== except) sub.sendPlain(json);
  }

  private enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.chain.then(async () => {
      if (this.closed) return;
      try {
        await task();
      } catch (error) {
        this.deps.onError(error, `room ${this.canvasId}`);
      }
    });
    this.chain = run;
    return run;
  }

  private async onBusMessage(message: string): Promise<void> {
    const { events } = JSON.parse(message) as CanvasBusMessage;
    for (const event of events) {
      const seq = Number(event.server_seq);
      if (seq <= this.head) continue; // already delivered (healed earlier, or an echo)
      if ((event.prev_seq === null ? 0 : Number(event.prev_seq)) !== this.head) {
        // A hole in the chain: fetch what is missing from the op log first (RT-4).
        await this.fillTo(seq - 1);
        if (seq <= this.head) continue;
      }
      this.deliver(event);
    }
    this.schedule();
  }

  /** Delivers every applied op after the head up to `upTo` from the op log. */
  private async fillTo(upTo: number): Promise<void> {
    for (;;) {
      const events = await eventsAfter(this.deps.db, this.canvasId, this.head, 500);
      let delivered = 0;
      for (const event of events) {
        if (Number(event.server_seq) > upTo) return;
        this.deliver(event);
        delivered++;
      }
      this.schedule();
      if (events.length < 500 || delivered === 0) return;
    }
  }

  /** Advances the chain head; the op reaches the subscribers at the next flush (schedule()). */
  private deliver(event: OpEvent): void {
    const seq = Number(event.server_seq);
    this.head = seq;
    this.pending.push({ seq, json: JSON.stringify(event) });
  }

  /** Flushes now, or — in a big, busy room — once the batch window since the last flush ends. */
  private schedule(): void {
    if (this.flushTimer || this.pending.length === 0) return;
    const wait =
      this.subscribers.size < BATCH_MIN_SUBSCRIBERS
        ? 0
        : this.lastFlush + BATCH_WINDOW_MS - performance.now();
    if (wait <= 0) {
      this.flush();
      return;
    }
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null;
      this.flush();
    }, wait);
  }

  /** Hands the waiting ops to every subscriber, in order; the hub coalesces each socket's writes. */
  private flush(): void {
    const events = this.pending;
    if (events.length === 0) return;
    this.pending = [];
    this.lastFlush = performance.now();
    for (const sub of this.subscribers) for (const { seq, json } of events) sub.sendOp(seq, json);
    this.flushed = events[events.length - 1]!.seq;
    this.deps.onFanout?.(events.length, events.length * this.subscribers.size);
  }
}
