import { afterEach, describe, expect, it, vi } from "vitest";
import type { Bus } from "./bus";

/** Subscribes and records what arrives. */
async function record(bus: Bus, channel: string) {
  const got: string[] = [];
  const unsubscribe = await bus.subscribe(channel, (m) => got.push(m));
  return { got, unsubscribe };
}

const settle = (ms = 100) => new Promise((r) => setTimeout(r, ms));

/**
 * The behaviour every `Bus` implementation shares (ShareDB-style contract suite). Everything
 * here is observable from one process; cross-process behaviour is tested per implementation.
 */
export function busContract(name: string, makeBus: () => Bus | Promise<Bus>): void {
  describe(`bus contract: ${name}`, () => {
    const opened: Bus[] = [];
    const open = async () => {
      const bus = await makeBus();
      opened.push(bus);
      return bus;
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((b) => b.close()));
    });

    it("delivers a message to every subscriber of its channel, exactly once", async () => {
      const bus = await open();
      const a = await record(bus, "canvas:1");
      const b = await record(bus, "canvas:1");
      await bus.publish("canvas:1", "hello");
      await vi.waitFor(() => expect(a.got).toEqual(["hello"]));
      await vi.waitFor(() => expect(b.got).toEqual(["hello"]));
      await settle();
      expect(a.got).toEqual(["hello"]);
      expect(b.got).toEqual(["hello"]);
    });

    it("does not deliver to subscribers of other channels", async () => {
      const bus = await open();
      const other = await record(bus, "canvas:2");
      const mine = await record(bus, "canvas:1");
      await bus.publish("canvas:1", "x");
      await vi.waitFor(() => expect(mine.got).toEqual(["x"]));
      await settle();
      expect(other.got).toEqual([]);
    });

    it("RT-3: keeps publish order per channel, also for publishes not awaited one by one", async () => {
      const bus = await open();
      const sub = await record(bus, "canvas:order");
      const sent = Array.from({ length: 200 }, (_, i) => `op-${i}`);
      await Promise.all(sent.map((m) => bus.publish("canvas:order", m)));
      await vi.waitFor(() => expect(sub.got).toHaveLength(sent.length));
      expect(sub.got).toEqual(sent);
    });

    it("carries any string unchanged (JSON, newlines, unicode, empty)", async () => {
      const bus = await open();
      const sub = await record(bus, "canvas:payload");
      const sent = ['{"type":"op","server_seq":1}', "line1\nline2", "ünï©ødé 🎨", ""];
      for (const m of sent) await bus.publish("canvas:payload", m);
      await vi.waitFor(() => expect(sub.got).toEqual(sent));
    });

    it("stops delivering after unsubscribe, which is idempotent and leaves other subscribers alone", async () => {
      const bus = await open();
      const gone = await record(bus, "canvas:u");
      const stays = await record(bus, "canvas:u");
      await gone.unsubscribe();
      await gone.unsubscribe();
      await bus.publish("canvas:u", "after");
      await vi.waitFor(() => expect(stays.got).toEqual(["after"]));
      await settle();
      expect(gone.got).toEqual([]);
    });

    it("treats each subscribe as its own subscription, even with the same handler", async () => {
      const bus = await open();
      const got: string[] = [];
      const handler = (m: string) => got.push(m);
      const first = await bus.subscribe("canvas:h", handler);
      await bus.subscribe("canvas:h", handler);
      await bus.publish("canvas:h", "1");
      await vi.waitFor(() => expect(got).toEqual(["1", "1"]));
      await first();
      await bus.publish("canvas:h", "2");
      await vi.waitFor(() => expect(got).toEqual(["1", "1", "2"]));
    });

    it("can subscribe again to a channel after its last subscriber left", async () => {
      const bus = await open();
      const first = await record(bus, "canvas:again");
      await first.unsubscribe();
      const second = await record(bus, "canvas:again");
      await bus.publish("canvas:again", "back");
      await vi.waitFor(() => expect(second.got).toEqual(["back"]));
    });

    it("isolates a throwing handler from the publisher and from other handlers", async () => {
      const bus = await open();
      await bus.subscribe("canvas:t", () => {
        throw new Error("handler bug");
      });
      const ok = await record(bus, "canvas:t");
      await expect(bus.publish("canvas:t", "m")).resolves.toBeUndefined();
      await vi.waitFor(() => expect(ok.got).toEqual(["m"]));
    });

    it("returns an unsubscribe function from onReconnect", async () => {
      const bus = await open();
      const off = bus.onReconnect(() => {});
      expect(typeof off).toBe("function");
      off();
      off();
    });

    it("reports healthy while open and unhealthy once closed", async () => {
      const bus = await open();
      await vi.waitFor(() => expect(bus.isHealthy()).toBe(true), { timeout: 5_000 });
      await bus.close();
      expect(bus.isHealthy()).toBe(false);
    });

    it("closes idempotently, stops delivery, and rejects use after close", async () => {
      const bus = await open();
      const sub = await record(bus, "canvas:c");
      await Promise.all([bus.close(), bus.close()]);
      await bus.close();
      await expect(bus.publish("canvas:c", "late")).rejects.toThrow(/closed/);
      await expect(bus.subscribe("canvas:c", () => {})).rejects.toThrow(/closed/);
      await sub.unsubscribe();
      await settle(50);
      expect(sub.got).toEqual([]);
    });
  });
}
