import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import type { Bus } from "./bus";
import { busContract } from "./bus.contract";
import { MemoryBus } from "./memoryBus";
import { silentLogger } from "./portLogger";
import type { RedisBusOptions } from "./redisBus";
import { RedisBus } from "./redisBus";
import { deleteKeys, killClients, testPrefix, UNREACHABLE_REDIS_URL } from "./redisTestKit";

const REDIS_URL = process.env.REDIS_URL;
const settle = (ms = 150) => new Promise((r) => setTimeout(r, ms));

busContract("memory", () => new MemoryBus({ logger: silentLogger }));

describe("memory bus", () => {
  it("never calls onReconnect: there is no connection to lose", async () => {
    const bus = new MemoryBus();
    const cb = vi.fn();
    bus.onReconnect(cb);
    await bus.subscribe("c", () => {});
    await bus.publish("c", "m");
    await settle(20);
    await bus.close();
    expect(cb).not.toHaveBeenCalled();
  });
});

if (!REDIS_URL) console.info("skipping redis bus contract and redis bus tests: REDIS_URL unset");

describe.skipIf(!REDIS_URL)("redis bus", () => {
  const url = REDIS_URL ?? "";
  const prefix = testPrefix();
  const opened: Bus[] = [];
  const open = (opts: Partial<RedisBusOptions> = {}) => {
    const bus = new RedisBus({ url, prefix, logger: silentLogger, ...opts });
    opened.push(bus);
    return bus;
  };
  const ready = (bus: Bus) => vi.waitFor(() => expect(bus.isHealthy()).toBe(true), { timeout: 5_000 });

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((b) => b.close()));
  });
  afterAll(async () => {
    await deleteKeys(url, prefix);
  });

  busContract("redis", () => open());

  it("RT-4: a message published by one process reaches subscribers in another", async () => {
    const a = open();
    const b = open();
    await Promise.all([ready(a), ready(b)]);
    const got: string[] = [];
    await b.subscribe("canvas:x", (m) => got.push(m));
    await a.publish("canvas:x", "from-a");
    await vi.waitFor(() => expect(got).toEqual(["from-a"]));
    await settle();
    expect(got).toEqual(["from-a"]);
  });

  it("RT-4: keeps per-channel order across processes", async () => {
    const a = open();
    const b = open();
    await Promise.all([ready(a), ready(b)]);
    const got: string[] = [];
    await b.subscribe("canvas:o", (m) => got.push(m));
    const sent = Array.from({ length: 300 }, (_, i) => String(i));
    await Promise.all(sent.map((m) => a.publish("canvas:o", m)));
    await vi.waitFor(() => expect(got).toHaveLength(sent.length));
    expect(got).toEqual(sent);
  });

  it("delivers its own message once: the echo coming back from Redis is dropped", async () => {
    const a = open();
    await ready(a);
    const got: string[] = [];
    await a.subscribe("canvas:echo", (m) => got.push(m));
    // A second process subscribed too proves the message did go through Redis.
    const b = open();
    await ready(b);
    const remote: string[] = [];
    await b.subscribe("canvas:echo", (m) => remote.push(m));
    await a.publish("canvas:echo", "once");
    await vi.waitFor(() => expect(remote).toEqual(["once"]));
    await settle();
    expect(got).toEqual(["once"]);
  });

  it("exposes a distinct instanceId per bus, or the one it was given", () => {
    expect(open().instanceId).not.toBe(open().instanceId);
    expect(open().instanceId).toMatch(/^[0-9a-f-]{36}$/);
    expect(open({ instanceId: "api-1" }).instanceId).toBe("api-1");
  });

  it("keeps buses with different prefixes apart", async () => {
    const a = open();
    const other = open({ prefix: testPrefix() });
    await Promise.all([ready(a), ready(other)]);
    const got: string[] = [];
    await other.subscribe("canvas:p", (m) => got.push(m));
    await a.publish("canvas:p", "not for you");
    await settle(200);
    expect(got).toEqual([]);
  });

  it("RT-4: after the subscriber connection is killed, onReconnect fires once resubscribed and later messages arrive", async () => {
    const a = open();
    const b = open();
    await Promise.all([ready(a), ready(b)]);
    const got: string[] = [];
    await b.subscribe("canvas:k", (m) => got.push(m));
    const reconnected = vi.fn();
    b.onReconnect(reconnected);

    const killed = await killClients(url, `${prefix}bus:sub:${b.instanceId}`);
    expect(killed).toBe(1);
    // Published during the outage: may be lost, which is what onReconnect's catch-up is for.
    await a.publish("canvas:k", "during");
    await vi.waitFor(() => expect(reconnected).toHaveBeenCalledTimes(1), { timeout: 10_000 });
    await a.publish("canvas:k", "after");
    await vi.waitFor(() => expect(got).toContain("after"));
    expect(got.filter((m) => m === "during").length).toBeLessThanOrEqual(1);
    expect(got.at(-1)).toBe("after");
    expect(b.isHealthy()).toBe(true);
  });

  it("does not call onReconnect while the connection simply stays up", async () => {
    const a = open();
    await ready(a);
    const cb = vi.fn();
    a.onReconnect(cb);
    await a.subscribe("canvas:steady", () => {});
    await a.publish("canvas:steady", "m");
    await settle(300);
    expect(cb).not.toHaveBeenCalled();
  });

  it("an onReconnect unsubscribe stops the callback", async () => {
    const a = open();
    await ready(a);
    await a.subscribe("canvas:off", () => {});
    const cb = vi.fn();
    const kept = vi.fn();
    a.onReconnect(cb)();
    a.onReconnect(kept);
    await killClients(url, `${prefix}bus:sub:${a.instanceId}`);
    await vi.waitFor(() => expect(kept).toHaveBeenCalledTimes(1), { timeout: 10_000 });
    expect(cb).not.toHaveBeenCalled();
  });

  it("OPS-6: publish keeps local fan-out working when Redis is down, and resolves quickly", async () => {
    const warnings: string[] = [];
    const down = open({
      url: UNREACHABLE_REDIS_URL,
      logger: { ...silentLogger, warn: (_o, msg) => warnings.push(msg) },
    });
    const got: string[] = [];
    await down.subscribe("canvas:d", (m) => got.push(m));
    const started = performance.now();
    for (let i = 0; i < 20; i++) await down.publish("canvas:d", `m${i}`);
    expect(performance.now() - started).toBeLessThan(500);
    await vi.waitFor(() => expect(got).toHaveLength(20));
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
    expect(down.isHealthy()).toBe(false);
    // One warning for the outage, not one per message.
    expect(warnings.filter((w) => w.includes("publishing only locally"))).toHaveLength(1);
  });

  it("closes promptly while Redis is unreachable", async () => {
    const down = open({ url: UNREACHABLE_REDIS_URL });
    await settle(100);
    const started = performance.now();
    await down.close();
    expect(performance.now() - started).toBeLessThan(500);
  });
});
