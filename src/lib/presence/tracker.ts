import { colorFor } from "./avatar";
import { PresenceOutbox } from "./outbox";
import { parsePresenceEvent } from "./parse";
import { PresenceRoster } from "./roster";
import { PRESENCE_SEND_INTERVAL_MS } from "./timing";
import type { OnlineUser, PresenceEngine, PresencePeer, PresenceSnapshot, PresenceUser } from "./types";
import { documentVisibility, type VisibilitySource } from "./visibility";

export interface PresenceTrackerOptions {
  engine: PresenceEngine;
  me: PresenceUser;
  /** Who is online now (`GET …/presence`), with their latest state when known. */
  fetchOnline: () => Promise<OnlineUser[]>;
  visibility?: VisibilitySource;
  now?: () => number;
  onError?: (error: unknown) => void;
  /** Minimum gap between two sends (default PRESENCE_SEND_INTERVAL_MS). */
  sendIntervalMs?: number;
}

/**
 * UI-2 / RT-7: who else is on this canvas, where their pointer is, and whether they are typing
 * (the roster), and what we tell them about ourselves (the outbox). Framework-free
 * (subscribe/getSnapshot for useSyncExternalStore); the React side lives in
 * src/components/presence. A polling client reloads the online list (`refresh`) instead of hearing
 * events, so it sees cursors too.
 */
export class PresenceTracker {
  private readonly engine: PresenceEngine;
  private readonly me: PresencePeer;
  private readonly fetchOnline: () => Promise<OnlineUser[]>;
  private readonly onError: (error: unknown) => void;
  private readonly outbox: PresenceOutbox;
  private readonly roster: PresenceRoster;

  private readonly listeners = new Set<() => void>();
  private snapshot: PresenceSnapshot;
  private running = false;
  /** Bumped on start/stop so a fetch from an earlier run cannot land in a later one. */
  private generation = 0;
  private unsubscribe: (() => void) | null = null;

  constructor(options: PresenceTrackerOptions) {
    const now = options.now ?? Date.now;
    this.engine = options.engine;
    this.fetchOnline = options.fetchOnline;
    this.onError = options.onError ?? (() => {});
    this.me = {
      user_id: options.me.user_id,
      name: options.me.name,
      color: colorFor(options.me.user_id),
      cursor: null,
      block_id: null,
      typing: false,
      lastSeen: 0,
    };
    this.snapshot = { me: this.me, others: [], typing: [] };
    this.outbox = new PresenceOutbox({
      engine: options.engine,
      visibility: options.visibility ?? documentVisibility,
      now,
      onError: this.onError,
      interval: options.sendIntervalMs ?? PRESENCE_SEND_INTERVAL_MS,
    });
    this.roster = new PresenceRoster({ me: this.me.user_id, now, onChange: () => this.publish() });
  }

  // --- store (useSyncExternalStore) ---

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): PresenceSnapshot => this.snapshot;

  // --- lifecycle ---

  /** Listens to the engine, loads who is online, and starts the heartbeat. Idempotent. */
  start(): void {
    if (this.running) return;
    this.running = true;
    const generation = ++this.generation;
    this.unsubscribe = this.engine.onPresence((event) => this.receive(event));
    this.outbox.start();
    void this.loadOnline(generation);
  }

  /** Stops every timer and listener; clears our cursor and typing for the others. Idempotent. */
  stop(): void {
    if (!this.running) return;
    this.outbox.stop();
    this.running = false;
    this.generation++;
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.roster.clear();
    this.publish();
  }

  /**
   * Reloads the online list: after a reconnect (join/leave may have been missed), and
   * periodically while polling (REST clients receive no presence events).
   */
  refresh(): void {
    if (this.running) void this.loadOnline(this.generation);
  }

  // --- sending ---

  /** Sends our current state now (throttled), e.g. once the engine's transport is connected. */
  announce(): void {
    this.outbox.announce();
  }

  /** Our pointer is at (x, y) px from the top-left of block `blockId`'s element. Throttled. */
  moveCursor(blockId: string, x: number, y: number): void {
    this.outbox.moveCursor(blockId, x, y);
  }

  /** A keystroke in block `blockId`. */
  typing(blockId: string): void {
    this.outbox.typing(blockId);
  }

  /** The pointer left the canvas. */
  clear(): void {
    this.outbox.clear();
  }

  // --- receiving ---

  private async loadOnline(generation: number): Promise<void> {
    const fetchedFrom = this.roster.beginFetch();
    let users: OnlineUser[];
    try {
      users = await this.fetchOnline();
    } catch (error) {
      this.onError(error);
      return;
    }
    if (generation !== this.generation || !this.running) return;
    this.roster.mergeOnline(users, fetchedFrom);
  }

  private receive(raw: unknown): void {
    if (!this.running) return;
    const event = parsePresenceEvent(raw);
    if (event) this.roster.receive(event);
  }

  private publish(): void {
    const others = this.roster.others();
    this.snapshot = { me: this.me, others, typing: others.filter((peer) => peer.typing) };
    for (const listener of [...this.listeners]) listener();
  }
}
