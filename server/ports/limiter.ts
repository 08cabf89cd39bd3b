import { RateLimiterRes } from "rate-limiter-flexible";

/**
 * Rate limits (API routes, sockets, RT-6; MUT-7's limit lives in the database). Two
 * implementations on rate-limiter-flexible: `memoryLimiter.ts` (per process, single-node)
 * and `redisLimiter.ts` (shared by all processes, falling back to per-process memory while
 * Redis is down, OPS-6). Both run through `limiter.contract.ts`.
 */

/** `points` per `duration` seconds; structurally the same as `RateRule` in `server/env.ts`. */
export interface LimitRule {
  points: number;
  duration: number;
}

export interface LimitResult {
  allowed: boolean;
  /** The rule's `points` (for `X-RateLimit-Limit`). */
  limit: number;
  /** Points left in the current window (0 once refused). */
  remaining: number;
  /** Milliseconds until the window resets (for `Retry-After` / `X-RateLimit-Reset`). */
  resetMs: number;
}

export interface Limiter {
  readonly kind: "memory" | "redis";
  /**
   * Spends `cost` points of `key`'s budget under rule `ruleId`. A refusal is a result
   * (`allowed: false`), never an exception. Limiters per ruleId + rule are created lazily.
   */
  consume(ruleId: string, key: string, rule: LimitRule, cost?: number): Promise<LimitResult>;
  close(): Promise<void>;
}

export class LimiterClosedError extends Error {
  constructor() {
    super("limiter is closed");
    this.name = "LimiterClosedError";
  }
}

/**
 * Windows are whole seconds: Redis expiries are, and rate-limiter-flexible would otherwise
 * store a sub-second window in Redis without any expiry. Rounded up, so never looser.
 */
export function windowSeconds(rule: LimitRule): number {
  return Math.max(1, Math.ceil(rule.duration));
}

/** Validates a rule and cost (programmer errors, so they throw) and names the limiter instance. */
export function limiterId(ruleId: string, rule: LimitRule, cost: number): string {
  if (!Number.isInteger(rule.points) || rule.points < 1) {
    throw new RangeError(`rate rule ${ruleId}: points must be a positive integer`);
  }
  if (!(rule.duration > 0)) throw new RangeError(`rate rule ${ruleId}: duration must be positive`);
  if (!Number.isInteger(cost) || cost < 1) throw new RangeError("cost must be a positive integer");
  return `${ruleId}:${rule.points}:${windowSeconds(rule)}`;
}

/** Maps rate-limiter-flexible's outcome (resolved or rejected `RateLimiterRes`) to a result. */
export async function toResult(rule: LimitRule, attempt: Promise<RateLimiterRes>): Promise<LimitResult> {
  try {
    const res = await attempt;
    return {
      allowed: true,
      limit: rule.points,
      remaining: res.remainingPoints,
      resetMs: Math.max(0, res.msBeforeNext),
    };
  } catch (err) {
    if (!(err instanceof RateLimiterRes)) throw err;
    return { allowed: false, limit: rule.points, remaining: 0, resetMs: Math.max(0, err.msBeforeNext) };
  }
}
