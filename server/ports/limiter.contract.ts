import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import type { Limiter, LimitRule } from "./limiter";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The behaviour every `Limiter` implementation shares. */
export function limiterContract(name: string, makeLimiter: () => Limiter | Promise<Limiter>): void {
  describe(`limiter contract: ${name}`, () => {
    const opened: Limiter[] = [];
    const open = async () => {
      const limiter = await makeLimiter();
      opened.push(limiter);
      return limiter;
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((l) => l.close()));
    });
    // A fresh key per test, so a shared store never carries budgets between tests.
    const key = () => `user:${randomUUID()}`;
    const rule: LimitRule = { points: 3, duration: 60 };

    it("allows `points` requests per window, counting down `remaining`, then refuses", async () => {
      const limiter = await open();
      const k = key();
      const results = [];
      for (let i = 0; i < 4; i++) results.push(await limiter.consume("H1", k, rule));
      expect(results.map((r) => r.allowed)).toEqual([true, true, true, false]);
      expect(results.map((r) => r.remaining)).toEqual([2, 1, 0, 0]);
      for (const r of results) {
        expect(r.limit).toBe(3);
        expect(r.resetMs).toBeGreaterThan(0);
        expect(r.resetMs).toBeLessThanOrEqual(60_000);
      }
    });

    it("answers a refusal as a result, never by throwing, also under concurrent load", async () => {
      const limiter = await open();
      const k = key();
      const results = await Promise.all(
        Array.from({ length: 40 }, () => limiter.consume("A1", k, { points: 5, duration: 60 })),
      );
      expect(results.filter((r) => r.allowed)).toHaveLength(5);
      expect(results.filter((r) => !r.allowed)).toHaveLength(35);
    });

    it("spends `cost` points at once and refuses a cost larger than what is left", async () => {
      const limiter = await open();
      const k = key();
      const rule10 = { points: 10, duration: 60 };
      expect(await limiter.consume("A3", k, rule10, 7)).toMatchObject({ allowed: true, remaining: 3 });
      expect(await limiter.consume("A3", k, rule10, 4)).toMatchObject({ allowed: false, remaining: 0 });
    });

    it("keeps separate budgets per key", async () => {
      const limiter = await open();
      const [a, b] = [key(), key()];
      for (let i = 0; i < 3; i++) await limiter.consume("H2", a, rule);
      expect((await limiter.consume("H2", a, rule)).allowed).toBe(false);
      expect(await limiter.consume("H2", b, rule)).toMatchObject({ allowed: true, remaining: 2 });
    });

    it("keeps separate budgets per rule id, and per rule when a rule id's rule changes", async () => {
      const limiter = await open();
      const k = key();
      for (let i = 0; i < 3; i++) await limiter.consume("H3", k, rule);
      expect((await limiter.consume("H3", k, rule)).allowed).toBe(false);
      expect((await limiter.consume("H4", k, rule)).allowed).toBe(true);
      expect(await limiter.consume("H3", k, { points: 5, duration: 60 })).toMatchObject({
        allowed: true,
        remaining: 4,
      });
    });

    it("gives the budget back once the window has passed", async () => {
      const limiter = await open();
      const k = key();
      const oneSecond = { points: 1, duration: 1 };
      expect((await limiter.consume("A6", k, oneSecond)).allowed).toBe(true);
      const refused = await limiter.consume("A6", k, oneSecond);
      expect(refused.allowed).toBe(false);
      await sleep(refused.resetMs + 100);
      expect((await limiter.consume("A6", k, oneSecond)).allowed).toBe(true);
    });

    it("rounds a sub-second window up to a whole second, never loosening the limit", async () => {
      const limiter = await open();
      const k = key();
      const tight = { points: 1, duration: 0.2 };
      expect((await limiter.consume("M3", k, tight)).allowed).toBe(true);
      await sleep(300);
      expect((await limiter.consume("M3", k, tight)).allowed).toBe(false);
    });

    it("rejects a malformed rule or cost as a programmer error", async () => {
      const limiter = await open();
      await expect(limiter.consume("X", key(), { points: 0, duration: 1 })).rejects.toThrow(RangeError);
      await expect(limiter.consume("X", key(), { points: 1.5, duration: 1 })).rejects.toThrow(RangeError);
      await expect(limiter.consume("X", key(), { points: 1, duration: 0 })).rejects.toThrow(RangeError);
      await expect(limiter.consume("X", key(), rule, 0)).rejects.toThrow(RangeError);
      await expect(limiter.consume("X", key(), rule, 1.5)).rejects.toThrow(RangeError);
    });

    it("closes idempotently and rejects use after close", async () => {
      const limiter = await open();
      await limiter.consume("H5", key(), rule);
      await Promise.all([limiter.close(), limiter.close()]);
      await limiter.close();
      await expect(limiter.consume("H5", key(), rule)).rejects.toThrow(/closed/);
    });
  });
}
