import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { MemoryPresence } from "./memoryPresence";
import { presenceContract } from "./presence.contract";
import { RedisPresence } from "./redisPresence";
import { deleteKeys, testPrefix } from "./redisTestKit";

const REDIS_URL = process.env.REDIS_URL;

presenceContract("memory", (now) => new MemoryPresence(now));

if (!REDIS_URL) console.info("skipping redis presence contract: REDIS_URL unset");

describe.skipIf(!REDIS_URL)("redis presence", () => {
  const url = REDIS_URL ?? "";
  const prefix = testPrefix();
  afterAll(() => deleteKeys(url, prefix));

  presenceContract("redis", (now) => new RedisPresence({ url, prefix, now }));

  it("RT-7: two processes count one user once, and one leaving keeps the other's entry", async () => {
    const a = new RedisPresence({ url, prefix });
    const b = new RedisPresence({ url, prefix });
    try {
      const canvas = randomUUID();
      const user = randomUUID();
      await a.join(canvas, user);
      await b.join(canvas, user);
      expect(await a.online(canvas)).toEqual([user]);
      await a.leave(canvas, user);
      expect(await b.online(canvas)).toEqual([user]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("RT-10: a state set by one process is read by another, the latest of a burst, and cleared for both", async () => {
    const a = new RedisPresence({ url, prefix });
    const b = new RedisPresence({ url, prefix });
    try {
      const canvas = randomUUID();
      const user = randomUUID();
      for (let x = 0; x < 50; x++)
        a.setState(canvas, user, { cursor: { x, y: 0 }, block_id: null, typing: false });
      const seen = async () => (await b.states(canvas)).get(user)?.cursor?.x;
      for (let i = 0; i < 100 && (await seen()) !== 49; i++) await new Promise((r) => setTimeout(r, 50));
      expect(await seen()).toBe(49);
      a.setState(canvas, user, null);
      for (let i = 0; i < 100 && (await seen()) !== undefined; i++)
        await new Promise((r) => setTimeout(r, 50));
      expect(await b.states(canvas)).toEqual(new Map());
    } finally {
      await a.close();
      await b.close();
    }
  });
});
