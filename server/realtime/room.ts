import { canvasHead, eventsAfter, replaySince } from "../db/opLog";
import type { Database } from "../db/sql";
import { MAX_REPLAY_EVENTS, replayIsComplete } from "../domain/replay";
import type { Bus } from "../ports/bus";
import { type CanvasBusMessage, canvasChannel } from "../protocol/channels";
import type { OpEvent } from "../protocol/ops";
import type { Subscriber } from "./subscriber";

export interface RoomDeps {
  db: Database;
  bus: Bus;
  onError: (error: unknown, context: string) => void;
  /** Each op delivered to this room's subscribers (OPS-1: fan-out delay). */
  onDelivered?: (event: OpEvent) => void;
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

  /** The last server_seq delivered here. */
  get deliveredSeq(): number {
    return this.head;
  }
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
  }

  async close(): Promise<void> {
    this.closed = true;
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
      // Live from the current head on.
      await this.enqueue(async () => {
        sub.lastSent = this.head;
        sub.goLive();
      });
      return true;
    }
    sub.lastSent = sinceSeq;
    // RT-5's one rule (domain/replay), on the same one-snapshot read as H4's.
    const replay = await replaySince(this.deps.db, this.canvasId, sinceSeq);
    const head = replay?.head ?? 0;
    const events = replay?.events ?? [];
    if (!replayIsComplete(sinceSeq, events, head)) {
      sub.buffer = null;
      sub.lastSent = head;
      return false;
    }
    for (const event of events) sub.sendReplayed(Number(event.server_seq), JSON.stringify(event));
    // Flush through the room's queue so that whatever it is delivering right now comes after.
    await this.enqueue(async () => {
      // Bring the subscriber up to the room's head should the room be ahead of our read.
      if (sub.buffer && sub.lastSent < this.head) {
        for (const event of await eventsAfter(this.deps.db, this.canvasId, sub.lastSent, MAX_REPLAY_EVENTS)) {
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
      if (events.length < 500 || delivered === 0) return;
    }
  }

  private deliver(event: OpEvent): void {
    const seq = Number(event.server_seq);
    this.head = seq;
    const json = JSON.stringify(event);
    for (const sub of this.subscribers) sub.sendOp(seq, json);
    this.deps.onDelivered?.(event);
  }
}
