import type { WebSocket } from "ws";
import type { Bus } from "../ports/bus";
import { PRESENCE_REFRESH_MS } from "../ports/presence";
import { presenceChannel } from "../protocol/channels";
import type { PresenceBusMessage } from "../protocol/presence";
import { plainDataFrame } from "../protocol/wire";
import type { PresenceService } from "../services/presenceService";
import { PresenceBatch, type PresenceFrame, presenceInterval } from "./presenceBatch";

/** Joins are gathered this long and announced as one `join` event (no N² on mass connects). */
export const JOIN_COALESCE_MS = 200;
/**
 * A receiver with more than this waiting in its send buffer skips a presence tick (it gets every
 * newer state in its next frame): presence never piles up in front of its ops (RT-10).
 */
export const PRESENCE_BACKLOG_BYTES = 64 * 1024;
/** A tick writes to this many receivers, then yields the event loop, so op frames go in between. */
const RECEIVERS_PER_TURN = 128;

/** What the room needs of a `sync.events` subscription. */
export interface PresenceReceiver {
  readonly userId: string;
  /** The frame prefix of its subscription (subscriptions with the same request id share it). */
  readonly head: string;
  readonly socket: Pick<WebSocket, "bufferedAmount">;
  sendPlain(json: string): void;
}

export interface PresenceRoomDeps<R extends PresenceReceiver> {
  presence: Pick<PresenceService, "connected" | "disconnected" | "announce">;
  bus: Pick<Bus, "subscribe">;
  /** The canvas's subscribers in this process, now. */
  receivers: () => Iterable<R>;
  /** Users holding a socket on the canvas in this process, now (kept alive in the registry). */
  users: () => Iterable<string>;
  /** Queues a frame on the receiver's socket (the hub's write path). */
  send: (receiver: R, frame: Buffer) => void;
  onError: (error: unknown, context: string) => void;
  now?: () => number;
}

/**
 * The presence side of one canvas in this process (RT-7, RT-10). Updates arrive over the bus,
 * from every process; the room keeps the latest state per user and, at most every 50 ms and
 * only when something changed, sends each receiver ONE `presence` frame holding every user that
 * changed since the last. The frame is serialised once per tick and shared as one buffer by every
 * subscription with the same envelope. `join` and `leave` are sent at once, never dropped, in the
 * order they happened; a leave also drops the user's queued state.
 */
export class PresenceRoom<R extends PresenceReceiver = PresenceReceiver> {
  private readonly batch: PresenceBatch;
  private readonly now: () => number;
  private tickTimer: NodeJS.Timeout | null = null;
  private ticking = false;
  /** No tick starts before this (RT-10's 50 ms, longer for big frames: presenceInterval). */
  private nextTickAt = 0;
  /** Receivers that skipped a tick: their next frame holds every user's latest state. */
  private readonly behind = new Set<R>();
  private readonly pendingJoins = new Set<string>();
  private joinTimer: NodeJS.Timeout | null = null;
  private readonly refreshTimer: NodeJS.Timeout;
  /** Registry writes and announcements, one after the other (a leave never overtakes its join). */
  private announcements: Promise<void> = Promise.resolve();
  private unsubscribe: (() => Promise<void>) | null = null;
  private closed = false;

  constructor(
    readonly canvasId: string,
    private readonly deps: PresenceRoomDeps<R>,
  ) {
    this.now = deps.now ?? Date.now;
    this.batch = new PresenceBatch(this.now);
    // RT-7: keep this process's users alive in the registry; a dead process stops refreshing.
    this.refreshTimer = setInterval(() => {
      this.serially("presence refresh", async () => {
        for (const userId of [...this.deps.users()])
          await this.deps.presence.connected(this.canvasId, userId);
      });
    }, PRESENCE_REFRESH_MS);
    this.refreshTimer.unref();
  }

  async open(): Promise<void> {
    this.unsubscribe = await this.deps.bus.subscribe(presenceChannel(this.canvasId), (message) =>
      this.onMessage(message),
    );
  }

  /** Stops the timers, lets the announcements already due go out (a last `leave`), unsubscribes. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.refreshTimer);
    if (this.tickTimer) clearTimeout(this.tickTimer);
    if (this.joinTimer) clearTimeout(this.joinTimer);
    this.tickTimer = this.joinTimer = null;
    this.pendingJoins.clear();
    await this.announcements;
    await this.unsubscribe?.().catch(() => {});
    this.unsubscribe = null;
  }

  /** RT-7: the user's first socket here: registry entry now, `join` announced coalesced. */
  userJoined(userId: string): void {
    this.serially("presence join", () => this.deps.presence.connected(this.canvasId, userId));
    this.pendingJoins.add(userId);
    this.joinTimer ??= setTimeout(() => this.announceJoins(), JOIN_COALESCE_MS);
  }

  /**
   * RT-7: the user's last socket here closed: `leave` for everyone. A join still being gathered is
   * announced first (RT-10: neither is dropped, and the leave never overtakes it).
   */
  userLeft(userId: string): void {
    if (this.pendingJoins.has(userId)) this.announceJoins();
    this.serially("presence leave", () => this.deps.presence.disconnected(this.canvasId, userId));
  }

  private announceJoins(): void {
    if (this.joinTimer) clearTimeout(this.joinTimer);
    this.joinTimer = null;
    const users = [...this.pendingJoins];
    this.pendingJoins.clear();
    if (users.length > 0)
      this.serially("presence announce", () => this.deps.presence.announce(this.canvasId, users));
  }

  private serially(context: string, task: () => Promise<void>): void {
    this.announcements = this.announcements.then(task).catch((error) => this.deps.onError(error, context));
  }

  private onMessage(message: string): void {
    let event: PresenceBusMessage;
    try {
      event = JSON.parse(message) as PresenceBusMessage;
    } catch {
      return;
    }
    if (event.type === "update" && typeof event.user_id === "string") {
      this.batch.set(event);
      this.schedule();
    } else if (event.type === "join" && Array.isArray(event.users)) {
      this.broadcast(message);
    } else if (event.type === "leave" && typeof event.user_id === "string") {
      this.batch.drop(event.user_id);
      this.broadcast(message, event.user_id);
    }
  }

  /** Join and leave: at once, to every receiver (backed up or not), except the user's own. */
  private broadcast(json: string, except?: string): void {
    for (const receiver of this.deps.receivers()) if (receiver.userId !== except) receiver.sendPlain(json);
  }

  private schedule(): void {
    if (this.tickTimer || this.ticking || this.closed) return;
    this.tickTimer = setTimeout(() => void this.tick(), Math.max(0, this.nextTickAt - this.now()));
    this.tickTimer.unref();
  }

  private async tick(): Promise<void> {
    this.tickTimer = null;
    const frame = this.batch.take();
    if ((!frame && this.behind.size === 0) || this.closed) return;
    this.ticking = true;
    const started = this.now();
    let full: PresenceFrame | null | undefined;
    const shared = new Map<string, Buffer>();
    const sharedFull = new Map<string, Buffer>();
    let sent = 0;
    let bytes = 0;
    const receivers = [...this.deps.receivers()];
    try {
      for (let i = 0; i < receivers.length; i++) {
        if (i > 0 && i % RECEIVERS_PER_TURN === 0) {
          await new Promise((resolve) => setImmediate(resolve));
          if (this.closed) return;
        }
        const receiver = receivers[i]!;
        if (receiver.socket.bufferedAmount > PRESENCE_BACKLOG_BYTES) {
          if (frame) this.behind.add(receiver);
          continue;
        }
        let use: PresenceFrame | null = frame;
        let cache = shared;
        if (this.behind.delete(receiver)) {
          full ??= this.batch.full();
          use = full;
          cache = sharedFull;
        } else if (!frame || (frame.users.length === 1 && frame.users[0] === receiver.userId)) {
          continue; // nothing new for it, or nothing but its own echo
        }
        if (!use) continue;
        let buffer = cache.get(receiver.head);
        if (!buffer) {
          buffer = Buffer.from(plainDataFrame(receiver.head, use.json));
          cache.set(receiver.head, buffer);
        }
        this.deps.send(receiver, buffer);
        sent++;
        bytes = Math.max(bytes, buffer.length);
      }
    } finally {
      this.ticking = false;
      if (this.behind.size > 0) {
        // Receivers that went away meanwhile are forgotten.
        const current = new Set(receivers);
        for (const r of this.behind) if (!current.has(r)) this.behind.delete(r);
      }
      this.nextTickAt = started + presenceInterval(bytes, sent);
      if (this.batch.pending || this.behind.size > 0) this.schedule();
    }
  }
}
