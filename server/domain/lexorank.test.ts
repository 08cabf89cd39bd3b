import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  between,
  compareKeys,
  isValidKey,
  MAX_KEY_LENGTH,
  needsRebalance,
  planInsert,
  REBALANCE_THRESHOLD,
  rekeyWindow,
  spread,
} from "./lexorank";

const DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz";
const SCALE = 36n ** 10n;

// Independent oracle: a key as an exact fraction scaled by 36^10 (BigInt, no shortcuts).
function value(key: string): bigint {
  let v = 0n;
  for (let i = 0; i < MAX_KEY_LENGTH; i++) v = v * 36n + BigInt(i < key.length ? DIGITS.indexOf(key[i]!) : 0);
  return v;
}

function keyOf(v: bigint): string {
  let out = "";
  for (let rest = v, i = 0; i < MAX_KEY_LENGTH; i++, rest /= 36n) out = DIGITS[Number(rest % 36n)]! + out;
  return out.replace(/0+$/, "");
}

/** Whether some key of exactly `len` digits lies strictly between lo and hi. */
function fitsAt(lo: string | null, hi: string | null, len: number): boolean {
  const unit = 36n ** BigInt(MAX_KEY_LENGTH - len);
  const a = lo === null ? 0n : value(lo);
  const b = hi === null ? SCALE : value(hi);
  return a / unit + 1n < (b + unit - 1n) / unit;
}

const digit = fc.constantFrom(...DIGITS);
const lastDigit = fc.constantFrom(...DIGITS.slice(1));
const edgy = fc.constantFrom("0", "1", "y", "z");
const keyArb = fc
  .tuple(fc.string({ unit: fc.oneof(digit, edgy), maxLength: MAX_KEY_LENGTH - 1 }), fc.oneof(lastDigit, edgy))
  .map(([head, last]) => head + (last === "0" ? "1" : last));
const boundsArb = fc
  .tuple(fc.option(keyArb, { freq: 4 }), fc.option(keyArb, { freq: 4 }))
  .filter(([a, b]) => a === null || b === null || a !== b)
  .map(([a, b]) => (a !== null && b !== null && a > b ? [b, a] : [a, b]) as [string | null, string | null]);

function assertOrdered(keys: readonly string[]): void {
  for (const [i, key] of keys.entries()) {
    if (!isValidKey(key)) throw new Error(`invalid key ${key} at ${i}`);
    if (i > 0 && keys[i - 1]! >= key) throw new Error(`order broken at ${i}: ${keys[i - 1]} >= ${key}`);
  }
}

// Counts window re-keys, so the fuzz test can prove it reaches the re-keying path.
let rekeys = 0;

/** The brief's procedure: between(), and on null rekeyWindow() on a window that widens until it fits. */
function insertByWindow(keys: string[], index: number): void {
  const key = between(keys[index - 1] ?? null, keys[index] ?? null);
  if (key !== null) {
    keys.splice(index, 0, key);
    return;
  }
  for (let radius = 1; ; radius++) {
    const start = Math.max(0, index - radius);
    const end = Math.min(keys.length, index + radius);
    const window = rekeyWindow(
      keys.slice(start, end),
      index - start,
      keys[start - 1] ?? null,
      keys[end] ?? null,
    );
    if (window !== null) {
      rekeys++;
      keys.splice(start, end - start, ...window.keys);
      keys.splice(index, 0, window.inserted);
      return;
    }
  }
}

function insertByPlan(keys: string[], index: number): void {
  const plan = planInsert(keys, index);
  if (plan.rekeyed.length > 0) rekeys++;
  keys.splice(plan.start, plan.rekeyed.length, ...plan.rekeyed);
  keys.splice(index, 0, plan.key);
}

const strategies = [
  ["rekeyWindow widened until it fits", insertByWindow],
  ["planInsert", insertByPlan],
] as const;

describe("lexorank", () => {
  it("LEX-0: byte order is the numeric order of the keys as base-36 fractions", () => {
    fc.assert(
      fc.property(keyArb, keyArb, (a, b) => {
        expect(Math.sign(compareKeys(a, b))).toBe(Math.sign(Number(value(a) - value(b))));
        expect(compareKeys(a, b)).toBe(Buffer.compare(Buffer.from(a), Buffer.from(b)));
      }),
    );
  });

  it("LEX-0: valid keys are 1..10 chars of 0-9a-z not ending in '0'", () => {
    for (const k of ["1", "i", "z", "0000000001", "zzzzzzzzzz", "a0b"]) expect(isValidKey(k)).toBe(true);
    for (const k of ["", "0", "a0", "A", "i-", "zzzzzzzzzzz", "é", " i", null, 5])
      expect(isValidKey(k)).toBe(false);
  });

  it("LEX-1: between() picks the middle of bounded gaps and steps at open ends", () => {
    const cases: [string | null, string | null, string | null][] = [
      [null, null, "i"],
      ["i", null, "i1"],
      [null, "i", "hz"],
      ["a", "b", "ai"],
      ["a", "c", "b"],
      ["i1", "i2", "i1i"],
      ["i1", "i1i", "i19"],
      ["z", null, "z01"],
      [null, "1", "0zz"],
      ["zzzzzzzzz", null, "zzzzzzzzzi"],
      [null, "000000001", "000000000i"],
      ["zzzzzzzzzy", "zzzzzzzzzz", null],
      ["zzzzzzzzzz", null, null],
      [null, "0000000001", null],
      ["x", "x000000001", null],
    ];
    for (const [a, b, want] of cases) expect(between(a, b), `between(${a}, ${b})`).toBe(want);
  });

  it("LEX-1: between() is strictly between, valid, and as short as possible for bounded gaps", () => {
    fc.assert(
      fc.property(boundsArb, ([a, b]) => {
        const k = between(a, b);
        const shortest = Array.from({ length: MAX_KEY_LENGTH }, (_, i) => i + 1).find((n) => fitsAt(a, b, n));
        if (k === null) {
          expect(shortest).toBeUndefined();
          return;
        }
        expect(isValidKey(k)).toBe(true);
        if (a !== null) expect(k > a).toBe(true);
        if (b !== null) expect(k < b).toBe(true);
        if (a !== null && b !== null) expect(k.length).toBe(shortest);
      }),
      { numRuns: 5000 },
    );
  });

  it("LEX-1: between() refuses invalid keys and out-of-order bounds", () => {
    expect(() => between("b", "a")).toThrow(RangeError);
    expect(() => between("a", "a")).toThrow(RangeError);
    expect(() => between("a0", null)).toThrow(RangeError);
    expect(() => between(null, "A")).toThrow(RangeError);
    expect(() => between("zzzzzzzzzzz", null)).toThrow(RangeError);
  });

  describe.each([
    ["the end", (n: number) => n],
    ["the start", (_n: number) => 0],
  ])("LEX-2: 1,000 inserts at %s", (_where, position) => {
    it.each(["i", "1", "z", "zy", "0000001", "zzzzzzz"])("starting from [%s]", (first) => {
      const keys = [first];
      for (let i = 0; i < 1000; i++) {
        const index = position(keys.length);
        const k = between(keys[index - 1] ?? null, keys[index] ?? null);
        expect(k, `insert ${i}`).not.toBeNull();
        keys.splice(index, 0, k!);
      }
      assertOrdered(keys);
      // Well within the limit: at most two characters more than the starting key.
      expect(Math.max(...keys.map((k) => k.length))).toBeLessThanOrEqual(Math.max(3, first.length + 2));
    });
  });

  describe.each(strategies)("LEX-2 and LEX-3 with %s", (_name, insert) => {
    it.each([
      ["right after the first block", (_n: number) => 1],
      ["right before the last block", (n: number) => n - 1],
    ])("LEX-2: 1,000 inserts always between the same two blocks, %s", (_where, position) => {
      const keys = ["i", "j"];
      const ids = ["A", "B"];
      for (let i = 0; i < 1000; i++) {
        const index = position(keys.length);
        insert(keys, index);
        ids.splice(index, 0, `n${i}`);
        assertOrdered(keys);
        expect(new Set(keys).size).toBe(keys.length);
      }
      expect(ids[0]).toBe("A");
      expect(ids.at(-1)).toBe("B");
      expect(Math.max(...keys.map((k) => k.length))).toBeLessThanOrEqual(MAX_KEY_LENGTH);
    });

    it("LEX-2/LEX-3: random insert sequences keep keys valid, short enough, unique and in visible order", () => {
      const step = fc.oneof(
        { weight: 3, arbitrary: fc.integer({ min: 0, max: 999 }).map((p) => ({ kind: "at" as const, p })) },
        { weight: 2, arbitrary: fc.constant({ kind: "again" as const, p: 0 }) },
        { weight: 1, arbitrary: fc.constant({ kind: "next" as const, p: 0 }) },
      );
      // Crowded runs (neighbours one unit apart at 10 chars) make the gaps run out early.
      const crowded = fc
        .tuple(keyArb, fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 3 }))
        .map(([k, n, stride]) => Array.from({ length: n }, (_, i) => value(k) + BigInt(i * stride)))
        .map((vs) => vs.filter((v) => v > 0n && v < SCALE).map(keyOf));
      const initial = fc.oneof(
        fc.constant<string[]>([]),
        fc.uniqueArray(keyArb, { maxLength: 20 }).map((ks) => [...ks].sort()),
        crowded,
      );
      const before = rekeys;
      fc.assert(
        fc.property(initial, fc.array(step, { minLength: 1, maxLength: 80 }), (start, steps) => {
          const keys = [...start];
          const ids = keys.map((_, i) => `s${i}`);
          let last = 0;
          for (const [n, s] of steps.entries()) {
            const index =
              s.kind === "at"
                ? Math.floor((s.p * (keys.length + 1)) / 1000)
                : Math.min(keys.length, s.kind === "again" ? last : last + 1);
            insert(keys, index);
            ids.splice(index, 0, `n${n}`);
            last = index;
            assertOrdered(keys);
            const visible = ids
              .map((id, i) => [id, keys[i]!] as const)
              .sort((x, y) => compareKeys(x[1], y[1]));
            expect(visible.map(([id]) => id)).toEqual(ids);
          }
        }),
        { numRuns: 2000 },
      );
      expect(rekeys - before).toBeGreaterThan(100);
    });
  });

  it("LEX-3: a second insert into a gap just filled gets a distinct key from the new neighbours", () => {
    fc.assert(
      fc.property(boundsArb, ([a, b]) => {
        const first = between(a, b);
        fc.pre(first !== null);
        const second = between(a, first) ?? between(first, b);
        fc.pre(second !== null);
        expect(second).not.toBe(first);
        expect([a, first, b].includes(second)).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it("LEX-3: a used-up gap is resolved by re-keying a window, never by an error", () => {
    const lo = "x";
    const window = ["x000000001", "x000000002", "x000000003"];
    expect(between(window[0]!, window[1]!)).toBeNull();
    const fixed = rekeyWindow(window, 1, lo, "y");
    expect(fixed).not.toBeNull();
    const all = [lo, fixed!.keys[0]!, fixed!.inserted, ...fixed!.keys.slice(1), "y"];
    assertOrdered(all);
    expect(fixed!.keys).toHaveLength(3);
    expect(rekeyWindow(["zzzzzzzzzy"], 0, "zzzzzzzzzx", "zzzzzzzzzz")).toBeNull();
  });

  it("LEX-4: spread() gives evenly spaced keys of the shortest length that holds them", () => {
    expect(spread(0, null, null)).toEqual([]);
    expect(spread(3, null, null)).toEqual(["9", "i", "r"]);
    expect(spread(35, null, null)).toEqual([...DIGITS.slice(1)]);
    expect(spread(1000, null, null)?.every((k) => k.length <= 2)).toBe(true);
    expect(spread(2, "zzzzzzzzzx", "zzzzzzzzzz")).toBeNull();
    expect(spread(3, "a", "b", 1)).toBeNull();
    expect(() => spread(-1, null, null)).toThrow(RangeError);
    expect(() => spread(1.5, null, null)).toThrow(RangeError);
    expect(() => spread(1, null, null, 11)).toThrow(RangeError);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 300 }),
        boundsArb,
        fc.integer({ min: 1, max: 10 }),
        (n, [lo, hi], max) => {
          const keys = spread(n, lo, hi, max);
          const shortest = Array.from({ length: max }, (_, i) => i + 1).find((len) => {
            const unit = 36n ** BigInt(MAX_KEY_LENGTH - len);
            const a = lo === null ? 0n : value(lo) / unit;
            const b = hi === null ? SCALE / unit : (value(hi) + unit - 1n) / unit;
            return b - a - 1n >= BigInt(n);
          });
          if (keys === null) {
            expect(shortest).toBeUndefined();
            return;
          }
          expect(keys).toHaveLength(n);
          assertOrdered([...(lo === null ? [] : [lo]), ...keys, ...(hi === null ? [] : [hi])]);
          expect(Math.max(...keys.map((k) => k.length))).toBe(shortest);
          if (n === 1 && lo !== null && hi !== null) expect(keys[0]).toBe(between(lo, hi));
          // Evenly spaced: neighbouring gaps differ by at most one unit at the chosen length.
          const unit = 36n ** BigInt(MAX_KEY_LENGTH - shortest!);
          const gaps = keys.slice(1).map((k, i) => Number((value(k) - value(keys[i]!)) / unit));
          if (gaps.length > 0) expect(Math.max(...gaps) - Math.min(...gaps)).toBeLessThanOrEqual(1);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("LEX-4: rekeyWindow() keeps order, stays inside its bounds and places the new item", () => {
    fc.assert(
      fc.property(fc.uniqueArray(keyArb, { minLength: 2, maxLength: 40 }), fc.nat(), (raw, at) => {
        const sorted = [...raw].sort();
        const lo = sorted[0]!;
        const hi = sorted.at(-1)!;
        const window = sorted.slice(1, -1);
        const insertAt = at % (window.length + 1);
        const out = rekeyWindow(window, insertAt, lo, hi);
        if (out === null) return;
        expect(out.keys).toHaveLength(window.length);
        const merged = [...out.keys];
        merged.splice(insertAt, 0, out.inserted);
        assertOrdered([lo, ...merged, hi]);
      }),
      { numRuns: 2000 },
    );
    expect(() => rekeyWindow(["b", "a"], 0, null, null)).toThrow(RangeError);
    expect(() => rekeyWindow(["b"], 2, null, null)).toThrow(RangeError);
    expect(() => rekeyWindow(["b"], 0, "c", null)).toThrow(RangeError);
  });

  it("LEX-4: keys longer than the rebalance threshold ask for a rebalance", () => {
    expect(REBALANCE_THRESHOLD).toBe(8);
    expect(needsRebalance("12345678")).toBe(false);
    expect(needsRebalance("123456789")).toBe(true);
  });
});
