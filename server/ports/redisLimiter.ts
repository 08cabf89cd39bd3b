import { Redis } from "ioredis";
import type { RateLimiterMemory } from "rate-limiter-flexible";
import { RateLimiterRedis } from "rate-limiter-flexible";
import type { Limiter, LimitResult, LimitRule } from "./limiter";
import { LimiterClosedError, limiterId, toResult, windowSeconds } from "./limiter";
import { clearMemoryLimiter, memoryRateLimiter } from "./memoryLimiter";
import type { PortLogger } from "./portLogger";
import { consoleLogger, errorInfo } from "./portLogger";
import { closeRedis, connectionName } from "./redisClient";

export interface RedisLimiterOptions {
  /** `REDIS_URL`. */
  url: string;
  /** Key prefix (`REDIS_PREFIX`); counters live at `${prefix}rl:${ruleId}:${points}:${seconds}:${key}`. */
  prefix: string;
  /** How long one Redis round trip may take before the per-process insurance answers (default 500 ms). */
  commandTimeoutMs?: number;
  logger?: PortLogger;
}

interface Pair {
  redis: RateLimiterRedis;
  insurance: RateLimiterMemory;
}

/**
 * Production limiter: budgets are shared by every process through Redis. Each Redis limiter
 * has a `RateLimiterMemory` as `insuranceLimiter`, so while Redis is down (or slow) limits
 * keep holding per process instead of failing open or erroring (OPS-6).
 */
export class RedisLimiter implements Limiter {
  readonly kind = "redis";
  readonly #client: Redis;
  readonly #prefix: string;
  readonly #limiters = new Map<string, Pair>();
  readonly #log: PortLogger;
  #degraded = false;
  /** Until the first connection attempt settles (bounded), so startup traffic is shared too. */
  #startup: Promise<void> | undefined;
  #endStartup: () => void = () => {};
  #closing: Promise<void> | undefined;

  constructor(opts: RedisLimiterOptions) {
    this.#prefix = `${opts.prefix}rl:`;
    this.#log = opts.logger ?? consoleLogger;
    const timeoutMs = opts.commandTimeoutMs ?? 500;
    // Fail fast (no offline queue, short timeout): the insurance limiter answers instead.
    this.#client = new Redis(opts.url, {
      connectionName: connectionName(this.#prefix, "limiter"),
      enableOfflineQueue: false,
      commandTimeout: timeoutMs,
      maxRetriesPerRequest: 1,
    });
    this.#startup = new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.#endStartup(), timeoutMs);
      this.#endStartup = () => {
        clearTimeout(timer);
        this.#client.off("ready", this.#endStartup).off("error", this.#endStartup);
        this.#startup = undefined;
        resolve();
      };
      this.#client.once("ready", this.#endStartup).once("error", this.#endStartup);
    });
    this.#client.on("error", (err) => {
      if (this.#degraded) return;
      this.#degraded = true;
      this.#log.warn(errorInfo(err), "redis limiter: limits fall back to per-process memory");
    });
    this.#client.on("ready", () => {
      if (!this.#degraded) return;
      this.#degraded = false;
      this.#log.info({}, "redis limiter: limits shared through Redis again");
    });
  }

  async consume(ruleId: string, key: string, rule: LimitRule, cost = 1): Promise<LimitResult> {
    if (this.#closing) throw new LimiterClosedError();
    const id = limiterId(ruleId, rule, cost);
    if (this.#startup) await this.#startup;
    let pair = this.#limiters.get(id);
    if (!pair) {
      const keyPrefix = this.#prefix + id;
      const insurance = memoryRateLimiter(keyPrefix, rule);
      const redis = new RateLimiterRedis({
        storeClient: this.#client,
        keyPrefix,
        points: rule.points,
        duration: windowSeconds(rule),
        rejectIfRedisNotReady: true,
        insuranceLimiter: insurance,
      });
      pair = { redis, insurance };
      this.#limiters.set(id, pair);
    }
    return toResult(rule, pair.redis.consume(key, cost));
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#endStartup();
      for (const { insurance } of this.#limiters.values()) clearMemoryLimiter(insurance);
      this.#limiters.clear();
      await closeRedis(this.#client);
    })();
    return this.#closing;
  }
}
