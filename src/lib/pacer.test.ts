import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DEFAULT_PACING, RequestPacer } from "./pacer";

/** Sends as fast as the pacer allows from t=0 for `ms`; returns the send times. */
function drive(pacer: RequestPacer, ms: number, start = 0): number[] {
  const sent: number[] = [];
  let now = start;
  while (now < start + ms) {
    const d = pacer.delay(now);
    if (d === 0) {
      pacer.take(now);
      sent.push(now);
    } else now += d;
  }
  return sent;
}

describe("UI-3 request pacing under MUT-7 (100 requests/min/user) and RT-6 (10 msg/s/socket)", () => {
  it("lets a burst out at the minimum spacing, then settles at the per-minute rate", () => {
    const sent = drive(new RequestPacer(), 60_000);
    expect(sent.slice(0, 10)).toEqual([0, 200, 400, 600, 800, 1000, 1200, 1400, 1600, 1800]);
    expect(sent.length).toBeLessThanOrEqual(DEFAULT_PACING.burst + DEFAULT_PACING.perMinute);
    expect(sent.length).toBeGreaterThan(80);
  });

  it("never exceeds 100 requests in any fixed minute window, or 5 per second, whatever the arrival pattern", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 3000 }), { minLength: 1, maxLength: 300 }), (gaps) => {
        const pacer = new RequestPacer();
        const sent: number[] = [];
        let now = 0;
        for (const gap of gaps) {
          now += gap;
          // A request wants out at `now`; it waits as long as the pacer says.
          const d = pacer.delay(now);
          now += d;
          expect(pacer.delay(now)).toBe(0);
          pacer.take(now);
          sent.push(now);
        }
        for (const t of sent) {
          const windowStart = Math.floor(t / 60_000) * 60_000;
          expect(sent.filter((s) => s >= windowStart && s < windowStart + 60_000).length).toBeLessThanOrEqual(
            100,
          );
          expect(sent.filter((s) => s > t - 1000 && s <= t).length).toBeLessThanOrEqual(5);
        }
      }),
    );
  });

  it("refills while idle: a pause gives the burst back", () => {
    const pacer = new RequestPacer();
    const last = drive(pacer, 30_000).at(-1)!;
    // Out of burst: right after a request, the next waits for the per-minute rate, not 200 ms.
    expect(pacer.delay(last)).toBeGreaterThan(600);
    expect(drive(pacer, 2000, 40_000 + 60_000).length).toBe(10);
  });
});
