import { HEARTBEAT_MS, TYPING_IDLE_MS, TYPING_REPEAT_MS } from "./timing";
import type { CursorPoint, PresenceEngine } from "./types";
import type { VisibilitySource } from "./visibility";

export interface PresenceOutboxOptions {
  engine: Pick<PresenceEngine, "sendPresence">;
  visibility: VisibilitySource;
  now: () => number;
  onError: (error: unknown) => void;
  /** Minimum gap between two sends (PRESENCE_SEND_INTERVAL_MS). */
  interval: number;
}

type Timer = ReturnType<typeof setTimeout>;

/**
 * UI-2 / RT-7, sending: every presence message carries our whole state (cursor, block_id,
 * typing), because the server fills omitted fields with null/false (H3) — a heartbeat must not
 * erase the cursor. All sends go through one throttle with a trailing send, so the last position
 * always arrives; `typing: false` follows the last keystroke; a heartbeat keeps us in the online
 * list while the page is visible.
 */
export class PresenceOutbox {
  private running = false;
  private mine: { cursor: CursorPoint | null; block_id: string | null; typing: boolean } = {
    cursor: null,
    block_id: null,
    typing: false,
  };
  private lastSendAt = Number.NEGATIVE_INFINITY;
  private lastTypingSentAt = Number.NEGATIVE_INFINITY;
  private sendTimer: Timer | undefined;
  private typingIdleTimer: Timer | undefined;
  private heartbeatTimer: Timer | undefined;
  private unwatch: (() => void) | null = null;

  constructor(private readonly o: PresenceOutboxOptions) {}

  /** Announces us and starts the heartbeat. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.unwatch = this.o.visibility.onChange(() => {
      // Back in view: announce ourselves at once (others may have dropped us while hidden).
      if (this.running && this.o.visibility.isVisible()) this.queueSend();
    });
    this.queueSend();
  }

  /** Clears our cursor and typing for the others, then stops every timer. */
  stop(): void {
    if (!this.running) return;
    if (this.mine.cursor !== null || this.mine.typing) {
      this.mine = { cursor: null, block_id: null, typing: false };
      this.sendNow();
    }
    this.running = false;
    this.unwatch?.();
    this.unwatch = null;
    for (const timer of [this.sendTimer, this.typingIdleTimer, this.heartbeatTimer]) clearTimeout(timer);
    this.sendTimer = this.typingIdleTimer = this.heartbeatTimer = undefined;
  }

  /** Sends our current state now (throttled). */
  announce(): void {
    this.queueSend();
  }

  moveCursor(blockId: string, x: number, y: number): void {
    if (!this.running || !Number.isFinite(x) || !Number.isFinite(y)) return;
    this.mine = { ...this.mine, cursor: { x: Math.round(x), y: Math.round(y) }, block_id: blockId };
    this.queueSend();
  }

  typing(blockId: string): void {
    if (!this.running) return;
    const now = this.o.now();
    // The cursor is relative to its block: typing elsewhere makes it meaningless.
    const cursor = this.mine.block_id === blockId ? this.mine.cursor : null;
    const repeat = !this.mine.typing || now - this.lastTypingSentAt >= TYPING_REPEAT_MS;
    const changed = this.mine.block_id !== blockId || cursor !== this.mine.cursor;
    this.mine = { cursor, block_id: blockId, typing: true };
    if (repeat || changed) {
      this.lastTypingSentAt = now;
      this.queueSend();
    }
    clearTimeout(this.typingIdleTimer);
    this.typingIdleTimer = setTimeout(() => {
      this.typingIdleTimer = undefined;
      this.mine = { ...this.mine, typing: false };
      this.queueSend();
    }, TYPING_IDLE_MS);
  }

  clear(): void {
    if (!this.running || this.mine.cursor === null) return;
    this.mine = { ...this.mine, cursor: null, block_id: this.mine.typing ? this.mine.block_id : null };
    this.queueSend();
  }

  private queueSend(): void {
    if (!this.running || this.sendTimer !== undefined) return;
    const wait = this.lastSendAt + this.o.interval - this.o.now();
    if (wait <= 0) {
      this.sendNow();
      return;
    }
    // Trailing send: whatever `mine` is when the window closes is what goes out.
    this.sendTimer = setTimeout(() => {
      this.sendTimer = undefined;
      this.sendNow();
    }, wait);
  }

  private sendNow(): void {
    this.lastSendAt = this.o.now();
    try {
      this.o.engine.sendPresence({ ...this.mine });
    } catch (error) {
      this.o.onError(error);
    }
    this.scheduleHeartbeat();
  }

  private scheduleHeartbeat(): void {
    clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
    if (!this.running) return;
    this.heartbeatTimer = setTimeout(() => {
      this.heartbeatTimer = undefined;
      // Hidden pages go quiet; the visibility listener announces us when we are back.
      if (this.o.visibility.isVisible()) this.queueSend();
    }, HEARTBEAT_MS);
  }
}
