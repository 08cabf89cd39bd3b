import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import type { PresenceState } from "../protocol/presence";
import {
  PRESENCE_KEY_TTL_S,
  PRESENCE_STATE_FLUSH_MS,
  PRESENCE_TTL_MS,
  type PresenceRegistry,
} from "./presence";
import { closeRedis, connectionName } from "./redisClient";

/** A stored state: the state and when it was set (entries older than the TTL are not read). */
type Stored = PresenceState & { at: number };

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
 *
 * RT-10: the latest state per user lives in the hash `${prefix}presence-state:<canvas>` (field:
 * user, value: JSON with the time it was set; the key expires PRESENCE_TTL_MS after its last
 * write). Writes are gathered for PRESENCE_STATE_FLUSH_MS and sent as one pipeline, the latest
 * per user, so a cursor moving 20 times a second costs 5 writes, not 20.
 */
export class RedisPresence implements PresenceRegistry {
  readonly kind = "redis";
  readonly instanceId: string;
  private readonly redis: Redis;
  private readonly now: () => number;
  /** States set here and not yet written: canvas → user → state (null: delete). */
  private pending = new Map<string, Map<string, Stored | null>>();
  private flushTimer: NodeJS.Timeout | null = null;
  private closed = false;

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

  private stateKey(canvasId: string): string {
    return `${this.opts.prefix}presence-state:${canvasId}`;
  }

  setState(canvasId: string, userId: string, state: PresenceState | null): void {
    let users = this.pending.get(canvasId);
    if (!users) {
      users = new Map();
      this.pending.set(canvasId, users);
    }
    users.set(userId, state && { ...state, at: this.now() });
    if (!this.flushTimer && !this.closed) {
      this.flushTimer = setTimeout(() => void this.flush(), PRESENCE_STATE_FLUSH_MS);
      this.flushTimer.unref();
    }
  }

  async states(canvasId: string): Promise<Map<string, PresenceState>> {
    const stored = await this.redis.hgetall(this.stateKey(canvasId));
    const oldest = this.now() - PRESENCE_TTL_MS;
    const out = new Map<string, PresenceState>();
    const take = (user: string, s: Stored | null) => {
      if (s && s.at > oldest) out.set(user, { cursor: s.cursor, block_id: s.block_id, typing: s.typing });
      else out.delete(user);
    };
    for (const [user, json] of Object.entries(stored)) {
      try {
        take(user, JSON.parse(json) as Stored);
      } catch {
        // not ours: skip it
      }
    }
    // This process's own writes not flushed yet are newer than what the store holds.
    for (const [user, s] of this.pending.get(canvasId) ?? []) take(user, s);
    return out;
  }

  /** Writes the gathered states, one pipeline for all canvases; a failed write is dropped. */
  private async flush(): Promise<void> {
    this.flushTimer = null;
    const batch = this.pending;
    this.pending = new Map();
    if (batch.size === 0) return;
    const multi = this.redis.pipeline();
    for (const [canvasId, users] of batch) {
      const key = this.stateKey(canvasId);
      const set: string[] = [];
      const drop: string[] = [];
      for (const [user, s] of users) {
        if (s) set.push(user, JSON.stringify(s));
        else drop.push(user);
      }
      if (set.length > 0) multi.hset(key, ...set).pexpire(key, PRESENCE_TTL_MS);
      if (drop.length > 0) multi.hdel(key, ...drop);
    }
    await multi.exec().catch(() => {
      // Presence is best effort while Redis is down (OPS-6): the next move writes again.
    });
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
    if (this.closed) return;
    this.closed = true;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    await this.flush();
    await closeRedis(this.redis);
  }
}
