/**
 * UI-3: one pacer for every budget the server counts a client's requests against, so that a fast
 * typist is never refused: requests wait for room instead, and keystrokes typed meanwhile go out
 * composed in fewer, larger ops. The budgets carry the server's rate-limit ids (SPEC §5):
 *
 * - `RPC` — MUT-7: 100 mutate requests per minute per user (fixed windows), whatever the transport;
 * - `H1` — RT-6: 10 messages per second per socket, mutations and presence together;
 * - `H2`, `H3`, `H4` — the REST routes' per-user limits (mutate 10/s, presence 5/s, snapshot 1/s).
 *
 * A request names every budget it spends from (`sync.mutate` on the socket: RPC and H1; presence
 * on the socket: H1; H2 through REST: RPC, then H2 at the fetch), and may go when all have room.
 */
export type BudgetId = "RPC" | "H1" | "H2" | "H3" | "H4";

/**
 * A token bucket (`burst` tokens refilled at `perMinute`) plus a minimum spacing: at most
 * `burst + perMinute` requests fit in any minute, and bursts are spread out.
 */
export interface BucketLimit {
  kind: "bucket";
  perMinute: number;
  burst: number;
  minIntervalMs: number;
}

/**
 * At most `max` requests in any `windowMs`, sliding. The server's limits are fixed windows; a
 * sliding window of the same size never puts more than `max` into one of them.
 */
export interface WindowLimit {
  kind: "window";
  max: number;
  windowMs: number;
}

export type Limit = BucketLimit | WindowLimit;
export type PacingLimits = Partial<Record<BudgetId, Limit>>;

/**
 * Under the server's limits with room to spare: RPC leaves 100 − (10 + 84) for a reload's first
 * requests and at most 5 mutate requests a second, which leaves H1 room for presence (the socket's
 * 10 include the subscribe); H4 has a wide margin: the server counts a request when it arrives
 * (a fixed 1 s window from the first), so two polls sent 1.2 s apart can land in one window when
 * the first was held up on the way (a busy web proxy) — 1.6 s leaves 0.6 s for that.
 */
export const DEFAULT_LIMITS: Readonly<Record<BudgetId, Limit>> = {
  RPC: { kind: "bucket", perMinute: 84, burst: 10, minIntervalMs: 200 },
  H1: { kind: "window", max: 8, windowMs: 1000 },
  H2: { kind: "window", max: 8, windowMs: 1000 },
  H3: { kind: "window", max: 4, windowMs: 1000 },
  H4: { kind: "window", max: 1, windowMs: 1600 },
};

interface Budget {
  /** Milliseconds until one more request fits (0: now). */
  delay(now: number): number;
  /** Records a request sent now. */
  take(now: number): void;
}

class Bucket implements Budget {
  private tokens: number;
  private refilledAt: number | undefined;
  private lastAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly o: BucketLimit) {
    this.tokens = o.burst;
  }

  delay(now: number): number {
    this.refill(now);
    const spacing = Math.max(0, this.lastAt + this.o.minIntervalMs - now);
    const budget = this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) * 60_000) / this.o.perMinute);
    return Math.max(spacing, budget);
  }

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

class Window implements Budget {
  private readonly sent: number[] = [];

  constructor(private readonly o: WindowLimit) {}

  delay(now: number): number {
    while (this.sent.length > 0 && now - (this.sent[0] as number) >= this.o.windowMs) this.sent.shift();
    return this.sent.length < this.o.max ? 0 : (this.sent[0] as number) + this.o.windowMs - now;
  }

  take(now: number): void {
    this.delay(now);
    this.sent.push(now);
  }
}

export interface PacerClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const realClock: PacerClock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export class Pacer {
  private readonly budgets = new Map<BudgetId, Budget>();
  /** Per budget, the end of the line of `wait` calls: each waits for the one before it. */
  private readonly lines = new Map<BudgetId, Promise<void>>();

  constructor(
    limits: PacingLimits = DEFAULT_LIMITS,
    private readonly clock: PacerClock = realClock,
  ) {
    for (const [id, limit] of Object.entries(limits) as [BudgetId, Limit][])
      this.budgets.set(id, limit.kind === "bucket" ? new Bucket(limit) : new Window(limit));
  }

  /** Milliseconds until a request spending from every budget of `ids` may go (0: now). */
  delay(ids: readonly BudgetId[], now = this.clock.now()): number {
    let wait = 0;
    for (const id of ids) wait = Math.max(wait, this.budgets.get(id)?.delay(now) ?? 0);
    return wait;
  }

  /** Records a request spending from every budget of `ids`, sent now. */
  take(ids: readonly BudgetId[], now = this.clock.now()): void {
    for (const id of ids) this.budgets.get(id)?.take(now);
  }

  /**
   * Waits its turn (in call order, per budget: one budget's line never holds up another's) until
   * `id` has room, then spends it.
   */
  wait(id: BudgetId): Promise<void> {
    if (!this.budgets.has(id)) return Promise.resolve();
    const turn = (this.lines.get(id) ?? Promise.resolve()).then(async () => {
      for (;;) {
        const d = this.delay([id]);
        if (d === 0) {
          this.take([id]);
          return;
        }
        await this.clock.sleep(d);
      }
    });
    this.lines.set(id, turn);
    return turn;
  }
}
