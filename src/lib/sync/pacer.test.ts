import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type BudgetId, DEFAULT_LIMITS, Pacer, type PacerClock } from "./pacer";

const RPC = DEFAULT_LIMITS.RPC.kind === "bucket" ? DEFAULT_LIMITS.RPC : null;

/** Sends as fast as the pacer allows from t=0 for `ms`; returns the send times. */
function drive(pacer: Pacer, ms: number, start = 0, ids: BudgetId[] = ["RPC"]): number[] {
  const sent: number[] = [];
  let now = start;
  while (now < start + ms) {
    const d = pacer.delay(ids, now);
    if (d === 0) {
      pacer.take(ids, now);
      sent.push(now);
    } else now += d;
  }
  return sent;
}

/** How many of `times` fall in the half-open window (t - ms, t]. */
const within = (times: number[], t: number, ms: number) => times.filter((s) => s > t - ms && s <= t).length;

/** A clock the test moves by hand: `sleep` resolves when `advance` passes its deadline. */
function manualClock(): PacerClock & { advance(ms: number): Promise<void> } {
  let now = 0;
  let sleepers: { at: number; wake(): void }[] = [];
  const flush = async () => {
    for (let i = 0; i < 20; i++) await Promise.resolve();
  };
  return {
    now: () => now,
    sleep: (ms) => new Promise<void>((wake) => sleepers.push({ at: now + ms, wake })),
    async advance(ms) {
      const end = now + ms;
      await flush();
      for (;;) {
        const next = sleepers.filter((s) => s.at <= end).sort((a, b) => a.at - b.at)[0];
        if (!next) break;
        now = next.at;
        sleepers = sleepers.filter((s) => s !== next);
        next.wake();
        await flush();
      }
      now = end;
    },
  };
}

describe("UI-3 request pacing under MUT-7 (100 requests/min/user) and RT-6 (10 msg/s/socket)", () => {
  it("lets a burst out at the minimum spacing, then settles at the per-minute rate", () => {
    const sent = drive(new Pacer(), 60_000);
    expect(sent.slice(0, 10)).toEqual([0, 200, 400, 600, 800, 1000, 1200, 1400, 1600, 1800]);
    expect(sent.length).toBeLessThanOrEqual((RPC?.burst ?? 0) + (RPC?.perMinute ?? 0));
    expect(sent.length).toBeGreaterThan(80);
  });

  it("never exceeds 100 requests in any fixed minute window, or 5 per second, whatever the arrival pattern", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 3000 }), { minLength: 1, maxLength: 300 }), (gaps) => {
        const pacer = new Pacer();
        const sent: number[] = [];
        let now = 0;
        for (const gap of gaps) {
          now += gap;
          // A request wants out at `now`; it waits as long as the pacer says.
          const d = pacer.delay(["RPC"], now);
          now += d;
          expect(pacer.delay(["RPC"], now)).toBe(0);
          pacer.take(["RPC"], now);
          sent.push(now);
        }
        for (const t of sent) {
          const windowStart = Math.floor(t / 60_000) * 60_000;
          expect(sent.filter((s) => s >= windowStart && s < windowStart + 60_000).length).toBeLessThanOrEqual(
            100,
          );
          expect(within(sent, t, 1000)).toBeLessThanOrEqual(5);
        }
      }),
    );
  });

  it("refills while idle: a pause gives the burst back", () => {
    const pacer = new Pacer();
    const last = drive(pacer, 30_000).at(-1)!;
    // Out of burst: right after a request, the next waits for the per-minute rate, not 200 ms.
    expect(pacer.delay(["RPC"], last)).toBeGreaterThan(600);
    expect(drive(pacer, 2000, 40_000 + 60_000).length).toBe(10);
  });

  it("RT-6: mutations and presence on one socket together stay within its messages per second, and mutations within MUT-7", () => {
    const H1 = DEFAULT_LIMITS.H1.kind === "window" ? DEFAULT_LIMITS.H1 : null;
    fc.assert(
      fc.property(
        fc.array(fc.record({ gap: fc.integer({ min: 0, max: 400 }), presence: fc.boolean() }), {
          minLength: 1,
          maxLength: 200,
        }),
        (arrivals) => {
          const pacer = new Pacer();
          const all: number[] = [];
          const mutations: number[] = [];
          let now = 0;
          for (const a of arrivals) {
            now += a.gap;
            const ids: BudgetId[] = a.presence ? ["H1"] : ["RPC", "H1"];
            now += pacer.delay(ids, now);
            pacer.take(ids, now);
            all.push(now);
            if (!a.presence) mutations.push(now);
          }
          for (const t of all) expect(within(all, t, H1?.windowMs ?? 0)).toBeLessThanOrEqual(H1?.max ?? 0);
          for (const t of mutations) {
            expect(within(mutations, t, 1000)).toBeLessThanOrEqual(5);
            expect(within(mutations, t, 60_000)).toBeLessThanOrEqual(100);
          }
        },
      ),
    );
  });

  it("RT-6: presence spends the socket's budget, so a mutation waits for the room presence used", () => {
    const pacer = new Pacer();
    for (let i = 0; i < 8; i++) pacer.take(["H1"], 100);
    // MUT-7 has room, the socket has not: the mutation waits until the first presence leaves the window.
    expect(pacer.delay(["RPC"], 500)).toBe(0);
    expect(pacer.delay(["RPC", "H1"], 500)).toBe(600);
    expect(pacer.delay(["RPC", "H1"], 1100)).toBe(0);
  });

  it("wait() lets requests go in call order per budget, and one budget's line never holds up another's", async () => {
    const clock = manualClock();
    const pacer = new Pacer(DEFAULT_LIMITS, clock);
    const went: { id: string; at: number }[] = [];
    const go = (id: BudgetId, tag: string) =>
      pacer.wait(id).then(() => went.push({ id: tag, at: clock.now() }));
    const done = Promise.all([go("H4", "snap1"), go("H4", "snap2"), go("H2", "mutate"), go("H4", "snap3")]);
    await clock.advance(5_000);
    await done;
    expect(went).toEqual([
      { id: "snap1", at: 0 },
      { id: "mutate", at: 0 },
      { id: "snap2", at: 1600 },
      { id: "snap3", at: 3200 },
    ]);
    // A budget the pacer was not given limits nothing.
    const open = new Pacer({});
    await open.wait("H2");
    expect(open.delay(["RPC", "H1"], 0)).toBe(0);
  });
});
