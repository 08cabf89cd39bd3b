/**
 * Paces mutate requests under the server's budgets: MUT-7 allows 100 requests per minute per user
 * (fixed windows) and RT-6 10 messages per second per socket, shared with presence. A token
 * bucket (`burst` tokens, refilled at `perMinute`) plus a minimum spacing keeps a client under
 * both, so a fast typist is never refused: keystrokes wait in the queue and go out composed in
 * fewer, larger ops instead. At most `burst + perMinute` requests fit in any minute.
 */
export interface PacerOptions {
  perMinute: number;
  burst: number;
  minIntervalMs: number;
}

export const DEFAULT_PACING: PacerOptions = { perMinute: 84, burst: 10, minIntervalMs: 200 };

export class RequestPacer {
  private tokens: number;
  private refilledAt: number | undefined;
  private lastAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly o: PacerOptions = DEFAULT_PACING) {
    this.tokens = o.burst;
  }

  /** Milliseconds until the next request may be sent (0: now). */
  delay(now: number): number {
    this.refill(now);
    const spacing = Math.max(0, this.lastAt + this.o.minIntervalMs - now);
    const budget = this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) * 60_000) / this.o.perMinute);
    return Math.max(spacing, budget);
  }

  /** Records a request sent now. */
  take(now: number): void {
    this.refill(now);
    this.tokens = Math.max(0, this.tokens - 1);
    this.lastAt = now;
  }

  private refill(now: number): void {
    if (this.refilledAt !== undefined && now > this.refilledAt)
      this.tokens = Math.min(
        this.o.burst,
        this.tokens + ((now - this.refilledAt) * this.o.perMinute) / 60_000,
      );
    this.refilledAt = now;
  }
}
