import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { Limiter } from "./limiter";
import { limiterContract } from "./limiter.contract";
import { MemoryLimiter } from "./memoryLimiter";
import { silentLogger } from "./portLogger";
import { closeRedis } from "./redisClient";
import type { RedisLimiterOptions } from "./redisLimiter";
import { RedisLimiter } from "./redisLimiter";
import { deleteKeys, testPrefix, UNREACHABLE_REDIS_URL } from "./redisTestKit";

const REDIS_URL = process.env.REDIS_URL;

limiterContract("memory", () => new MemoryLimiter());

if (!REDIS_URL) console.info("skipping redis limiter contract and redis limiter tests: REDIS_URL unset");

describe.skipIf(!REDIS_URL)("redis limiter", () => {
  const url = REDIS_URL ?? "";
  const prefix = testPrefix();
  const otherPrefix = testPrefix();
  const opened: Limiter[] = [];
  const open = (opts: Partial<RedisLimiterOptions> = {}) => {
    const limiter = new RedisLimiter({ url, prefix, logger: silentLogger, ...opts });
    opened.push(limiter);
    return limiter;
  };
  const rule = { points: 4, duration: 60 };

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((l) => l.close()));
  });
  afterAll(async () => {
    await deleteKeys(url, prefix);
    await deleteKeys(url, otherPrefix);
  });

  limiterContract("redis", () => open());

  it("shares one budget between processes on the same prefix", async () => {
    const [a, b] = [open(), open()];
    const k = `user:${randomUUID()}`;
    const verdicts = [];
    for (let i = 0; i < 6; i++) verdicts.push((await (i % 2 ? b : a).consume("RPC", k, rule)).allowed);
    expect(verdicts).toEqual([true, true, true, true, false, false]);
  });

  it("does not share budgets across prefixes", async () => {
    const a = open();
    const other = open({ prefix: otherPrefix });
    const k = `user:${randomUUID()}`;
    for (let i = 0; i < 4; i++) await a.consume("RPC", k, rule);
    expect((await a.consume("RPC", k, rule)).allowed).toBe(false);
    expect((await other.consume("RPC", k, rule)).allowed).toBe(true);
  });

  it("keeps its counters under the prefix, expiring with the window", async () => {
    const a = open();
    const k = `user:${randomUUID()}`;
    await a.consume("AUTH", k, rule);
    const admin = new Redis(url);
    try {
      const stored = `${prefix}rl:AUTH:4:60:${k}`;
      expect(await admin.get(stored)).toBe("1");
      const ttl = await admin.ttl(stored);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(60);
    } finally {
      await closeRedis(admin);
    }
  });

  it("OPS-6: with Redis down, limits fall back to per-process memory and answer quickly", async () => {
    const down = open({ url: UNREACHABLE_REDIS_URL });
    const k = `user:${randomUUID()}`;
    const started = performance.now();
    const verdicts = [];
    for (let i = 0; i < 6; i++) verdicts.push((await down.consume("RPC", k, rule)).allowed);
    expect(performance.now() - started).toBeLessThan(500);
    expect(verdicts).toEqual([true, true, true, true, false, false]);
  });
});
