import type { PortLogger } from "./portLogger";
import { errorInfo } from "./portLogger";

interface Subscription {
  readonly handler: (message: string) => void;
  active: boolean;
}

/**
 * In-process channel → handlers registry shared by both bus implementations.
 * Delivery is asynchronous (one microtask per message, so per-channel order is publish order)
 * and isolated: a throwing handler is logged and never affects the publisher or other handlers.
 */
export class LocalFanout {
  readonly #channels = new Map<string, Set<Subscription>>();

  constructor(private readonly log: PortLogger) {}

  /** Registers a handler; `first` tells whether the channel had no handler before. */
  add(channel: string, handler: (message: string) => void): { first: boolean; sub: Subscription } {
    let subs = this.#channels.get(channel);
    const first = subs === undefined;
    if (!subs) {
      subs = new Set();
      this.#channels.set(channel, subs);
    }
    const sub: Subscription = { handler, active: true };
    subs.add(sub);
    return { first, sub };
  }

  /** Removes a handler; returns true when it was the channel's last one. Idempotent. */
  remove(channel: string, sub: Subscription): boolean {
    if (!sub.active) return false;
    sub.active = false;
    const subs = this.#channels.get(channel);
    if (!subs) return false;
    subs.delete(sub);
    if (subs.size > 0) return false;
    this.#channels.delete(channel);
    return true;
  }

  deliver(channel: string, message: string): void {
    const subs = this.#channels.get(channel);
    if (!subs || subs.size === 0) return;
    const snapshot = [...subs];
    queueMicrotask(() => {
      for (const sub of snapshot) {
        // A handler removed after publish but before delivery no longer receives.
        if (!sub.active) continue;
        try {
          sub.handler(message);
        } catch (err) {
          this.log.error({ channel, ...errorInfo(err) }, "bus handler threw");
        }
      }
    });
  }

  channels(): string[] {
    return [...this.#channels.keys()];
  }

  get size(): number {
    return this.#channels.size;
  }

  clear(): void {
    for (const subs of this.#channels.values()) for (const sub of subs) sub.active = false;
    this.#channels.clear();
  }
}
