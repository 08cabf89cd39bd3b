import { RateLimiterMemory } from "rate-limiter-flexible";
import type { Limiter, LimitResult, LimitRule } from "./limiter";
import { LimiterClosedError, limiterId, toResult, windowSeconds } from "./limiter";

export function memoryRateLimiter(keyPrefix: string, rule: LimitRule): RateLimiterMemory {
  return new RateLimiterMemory({ keyPrefix, points: rule.points, duration: windowSeconds(rule) });
}

/**
 * rate-limiter-flexible keeps one (unref'd) expiry timer per key and offers no way to drop
 * them all; clear them on close so that nothing outlives the limiter. Reads a private field,
 * defensively: if a later version renames it, this does nothing and the timers just expire.
 */
export function clearMemoryLimiter(limiter: RateLimiterMemory): void {
  const storage = (limiter as unknown as { _memoryStorage?: { _storage?: unknown } })._memoryStorage
    ?._storage;
  if (!(storage instanceof Map)) return;
  for (const record of storage.values() as IterableIterator<{ timeoutId?: ReturnType<typeof setTimeout> }>) {
    if (record?.timeoutId) clearTimeout(record.timeoutId);
  }
  storage.clear();
}

/** Single-node limiter: budgets live in this process. */
export class MemoryLimiter implements Limiter {
  readonly kind = "memory";
  readonly #limiters = new Map<string, RateLimiterMemory>();
  #closed = false;

  async consume(ruleId: string, key: string, rule: LimitRule, cost = 1): Promise<LimitResult> {
    if (this.#closed) throw new LimiterClosedError();
    const id = limiterId(ruleId, rule, cost);
    let limiter = this.#limiters.get(id);
    if (!limiter) {
      limiter = memoryRateLimiter(id, rule);
      this.#limiters.set(id, limiter);
    }
    return toResult(rule, limiter.consume(key, cost));
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const limiter of this.#limiters.values()) clearMemoryLimiter(limiter);
    this.#limiters.clear();
  }
}
