import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { PRESENCE_KEY_TTL_S, PRESENCE_TTL_MS, type PresenceRegistry } from "./presence";
import { closeRedis, connectionName } from "./redisClient";

export interface RedisPresenceOptions {
  url: string;
  prefix: string;
  /** This process; its entries are `<user>|<instance>` so processes never remove each other's. */
  instanceId?: string;
  now?: () => number;
}

/**
 * Production presence (RT-7): per canvas a sorted set `${prefix}presence:<canvas>` of
 * `<user>|<instance>` scored by the time the entry lapses. Reads count only unexpired entries
 * and prune the rest, so a crashed process's users are gone within the TTL.
 */
export class RedisPresence implements PresenceRegistry {
  readonly kind = "redis";
  readonly instanceId: string;
  private readonly redis: Redis;
  private readonly now: () => number;

  constructor(private readonly opts: RedisPresenceOptions) {
    this.instanceId = opts.instanceId ?? randomUUID();
    this.now = opts.now ?? Date.now;
    this.redis = new Redis(opts.url, {
      connectionName: connectionName(opts.prefix, "presence:", this.instanceId),
      // Queued while (re)connecting, but never waited on for longer than a second.
      maxRetriesPerRequest: 1,
      commandTimeout: 1_000,
    });
    this.redis.on("error", () => {
      // Presence is best effort while Redis is down (OPS-6); reads then fail and callers degrade.
    });
  }

  private key(canvasId: string): string {
    return `${this.opts.prefix}presence:${canvasId}`;
  }

  async join(canvasId: string, userId: string): Promise<void> {
    const key = this.key(canvasId);
    await this.redis
      .multi()
      .zadd(key, this.now() + PRESENCE_TTL_MS, `${userId}|${this.instanceId}`)
      .expire(key, PRESENCE_KEY_TTL_S)
      .exec();
  }

  async leave(canvasId: string, userId: string): Promise<void> {
    await this.redis.zrem(this.key(canvasId), `${userId}|${this.instanceId}`);
  }

  async online(canvasId: string): Promise<string[]> {
    const key = this.key(canvasId);
    const now = this.now();
    const [, live] = (await this.redis
      .multi()
      .zremrangebyscore(key, "-inf", now)
      .zrangebyscore(key, now, "+inf")
      .exec()) as [unknown, [Error | null, string[]]];
    return [...new Set(live[1].map((m) => m.slice(0, m.lastIndexOf("|"))))].sort();
  }

  async close(): Promise<void> {
    await closeRedis(this.redis);
  }
}
