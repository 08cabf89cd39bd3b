import { PRESENCE_TTL_MS } from "../ports/presence";
import type { PresenceEntry } from "../protocol/presence";

/** RT-10: at most one presence frame per receiver per this many ms. */
export const PRESENCE_TICK_MS = 50;
/** A big room's ticks stretch up to this (cursors then move in steps a CSS transition smooths). */
export const MAX_PRESENCE_TICK_MS = 1_000;
/** Presence bytes one receiver is sent per second at most (~1 Mbit/s), whatever the room's size. */
export const RECEIVER_PRESENCE_BYTES_PER_S = 128 * 1024;
/** Presence bytes one room sends from one process per second at most (all its receivers). */
export const ROOM_PRESENCE_BYTES_PER_S = 64 * 1024 * 1024;

/**
 * RT-10: the wait after a tick before the next one. 50 ms unless the frame just sent was big: then
 * long enough that neither one receiver (its bandwidth) nor the room's process (frames × receivers)
 * passes its byte budget — a cap, so that presence never crowds out ops.
 */
export function presenceInterval(frameBytes: number, receivers: number): number {
  const perReceiver = (frameBytes * 1000) / RECEIVER_PRESENCE_BYTES_PER_S;
  const perRoom = (frameBytes * receivers * 1000) / ROOM_PRESENCE_BYTES_PER_S;
  return Math.min(
    MAX_PRESENCE_TICK_MS,
    Math.max(PRESENCE_TICK_MS, Math.ceil(Math.max(perReceiver, perRoom))),
  );
}

/** One tick's frame: the event JSON and whose entries it holds. */
export interface PresenceFrame {
  json: string;
  users: readonly string[];
}

/**
 * RT-10's coalescer for one room: the latest state of every user (each serialised once, when it
 * arrives), and which of them changed since the last `take()`. Latest wins; `drop` (a leave)
 * removes a user from both, so a state queued before the leave is never sent after it.
 */
export class PresenceBatch {
  /** user → the latest state's JSON, and when it came. */
  private readonly latest = new Map<string, { json: string; at: number }>();
  private changed = new Set<string>();

  constructor(private readonly now: () => number = Date.now) {}

  /** True when some user changed since the last take. */
  get pending(): boolean {
    return this.changed.size > 0;
  }

  set(entry: PresenceEntry): void {
    const { user_id, name, cursor, block_id, typing } = entry;
    // A fixed key order, so equal states serialise alike.
    this.latest.set(user_id, {
      json: JSON.stringify({ user_id, name, cursor, block_id, typing }),
      at: this.now(),
    });
    this.changed.add(user_id);
  }

  drop(userId: string): void {
    this.latest.delete(userId);
    this.changed.delete(userId);
  }

  /** The users that changed since the last take, latest state each; null when none did. */
  take(): PresenceFrame | null {
    if (this.changed.size === 0) return null;
    const users = [...this.changed];
    this.changed = new Set();
    return { json: frameOf(users.map((u) => this.latest.get(u)?.json ?? "")), users };
  }

  /**
   * Every user's latest state: for a receiver that missed ticks (it was backed up). A state older
   * than RT-7's 60 s is someone gone without a leave (a REST caller): forgotten, not resent.
   */
  full(): PresenceFrame | null {
    const oldest = this.now() - PRESENCE_TTL_MS;
    for (const [user, { at }] of this.latest) if (at <= oldest) this.latest.delete(user);
    if (this.latest.size === 0) return null;
    return { json: frameOf([...this.latest.values()].map((l) => l.json)), users: [...this.latest.keys()] };
  }
}

function frameOf(entries: string[]): string {
  return `{"type":"presence","users":[${entries.join(",")}]}`;
}
