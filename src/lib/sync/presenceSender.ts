import type { Pacer } from "./pacer";
import type { PresenceInput, SyncTransport } from "./types";

export interface PresenceSenderDeps {
  /** The transport mutations may use now (null: none). */
  transport(): SyncTransport | null;
  pacer: Pacer | null;
  now(): number;
  later(fn: () => void, ms: number): void;
}

/**
 * RT-7: fire-and-forget presence through the current transport (socket: `sync.presence`; REST:
 * H3). Never queued behind the network: a presence that cannot go now is stale anyway. On the
 * socket it spends RT-6's budget (H1) with the mutations; when the budget is spent the latest
 * presence waits for room and replaces any older one still waiting (each carries the whole state).
 */
export class PresenceSender {
  private waiting: PresenceInput | null = null;

  constructor(private readonly d: PresenceSenderDeps) {}

  send(input: PresenceInput): void {
    const t = this.d.transport();
    if (!t) return;
    if (this.waiting) {
      this.waiting = input;
      return;
    }
    const delay = this.delay(t);
    if (delay === 0) {
      this.go(t, input);
      return;
    }
    this.waiting = input;
    this.d.later(() => this.retry(), delay);
  }

  private retry(): void {
    const input = this.waiting;
    const t = this.d.transport();
    if (!input || !t) {
      this.waiting = null;
      return;
    }
    const delay = this.delay(t);
    if (delay > 0) {
      this.d.later(() => this.retry(), delay);
      return;
    }
    this.waiting = null;
    this.go(t, input);
  }

  private delay(t: SyncTransport): number {
    return t.kind === "websocket" && this.d.pacer ? this.d.pacer.delay(["H1"], this.d.now()) : 0;
  }

  private go(t: SyncTransport, input: PresenceInput): void {
    if (t.kind === "websocket") this.d.pacer?.take(["H1"], this.d.now());
    try {
      t.presence(input).catch(() => {});
    } catch {
      // best-effort
    }
  }
}
