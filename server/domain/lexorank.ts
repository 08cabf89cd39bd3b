/**
 * LexoRank-style ordering keys (SPEC LEX-0..LEX-4).
 *
 * A key is a base-36 fraction: "i" is 18/36, "i1" is 18/36 + 1/36². Keys never end in '0',
 * so every key maps to exactly one fraction in (0, 1) and byte order (COLLATE "C") equals
 * numeric order. Working at a fixed length L, a key is an integer m in [1, 36^L - 1];
 * 36^10 < 2^53, so plain numbers stay exact (spread() needs BigInt for k * span).
 *
 * `prisma/migrations/20261126000100_lexorank/migration.sql` mirrors between() and spread()
 * as lexo_between() / lexo_spread(); any change here must be made there too, and the
 * differential test (lexorank.int.test.ts) keeps them honest.
 */

export const MAX_KEY_LENGTH = 10;
/** Keys longer than this ask the rebalance worker to re-key the canvas (DB-6, LEX-4). */
export const REBALANCE_THRESHOLD = 8;
/**
 * At an open end, step one unit at the shortest digit position that leaves at least this
 * many units of room. Halving would add a character every ~5 appends; this adds one every
 * ~35 * OPEN_END_ROOM (~1,260) appends or prepends.
 */
export const OPEN_END_ROOM = 36;

const DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz";
const BASE = 36;
const KEY_PATTERN = /^[0-9a-z]{0,9}[1-9a-z]$/;
const POW: readonly number[] = Array.from({ length: MAX_KEY_LENGTH + 1 }, (_, i) => BASE ** i);

export function isValidKey(k: unknown): k is string {
  return typeof k === "string" && KEY_PATTERN.test(k);
}

/** Byte order, the order PostgreSQL uses under COLLATE "C" (LEX-0). */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function needsRebalance(key: string): boolean {
  return key.length > REBALANCE_THRESHOLD;
}

function pow36(len: number): number {
  return POW[len]!;
}

/** The first `len` digits of `key` (zero-padded) as an integer: floor(key * 36^len). */
function truncAt(key: string, len: number): number {
  let m = 0;
  for (let i = 0; i < len; i++) {
    m = m * BASE + (i < key.length ? DIGITS.indexOf(key[i]!) : 0);
  }
  return m;
}

/**
 * The integers m whose length-`len` key lies strictly between lo and hi (null = 0 and 1).
 * A key longer than `len` has a non-zero digit past `len`, hence the ceiling for hi.
 */
function candidates(lo: string | null, hi: string | null, len: number): [min: number, max: number] {
  const min = lo === null ? 1 : truncAt(lo, len) + 1;
  const max = hi === null ? pow36(len) - 1 : truncAt(hi, len) + (hi.length > len ? 0 : -1);
  return [min, max];
}

/** The length-`len` key of m, with trailing zeros dropped (same fraction, shorter key). */
function encode(m: number, len: number): string {
  const out: string[] = [];
  let rest = m;
  for (let i = 0; i < len; i++) {
    out.push(DIGITS[rest % BASE]!);
    rest = Math.floor(rest / BASE);
  }
  return out.reverse().join("").replace(/0+$/, "");
}

function checkBounds(lo: string | null, hi: string | null): void {
  if (lo !== null && !isValidKey(lo)) throw new RangeError(`lexorank: invalid key ${JSON.stringify(lo)}`);
  if (hi !== null && !isValidKey(hi)) throw new RangeError(`lexorank: invalid key ${JSON.stringify(hi)}`);
  if (lo !== null && hi !== null && lo >= hi) {
    throw new RangeError(`lexorank: bounds out of order (${lo} >= ${hi})`);
  }
}

/**
 * A key strictly between a and b (null = open end), or null when no key of at most
 * MAX_KEY_LENGTH characters fits (the caller then re-keys a window, see rekeyWindow).
 * Bounded gaps get the middle key of the shortest length that fits. Open ends step one unit
 * at the shortest position with OPEN_END_ROOM units of room, so long runs of appends or
 * prepends stay short; only when no such position exists do they fall back to the middle.
 * Throws RangeError on an invalid key or a >= b.
 */
export function between(a: string | null, b: string | null): string | null {
  checkBounds(a, b);
  if ((a === null) !== (b === null)) {
    for (let len = 1; len <= MAX_KEY_LENGTH; len++) {
      const [min, max] = candidates(a, b, len);
      if (max - min + 1 >= OPEN_END_ROOM) return encode(b === null ? min : max, len);
    }
  }
  for (let len = 1; len <= MAX_KEY_LENGTH; len++) {
    const [min, max] = candidates(a, b, len);
    if (min <= max) return encode(Math.floor((min + max) / 2), len);
  }
  return null;
}

function checkMaxLength(maxLength: number): void {
  if (!Number.isInteger(maxLength) || maxLength < 1 || maxLength > MAX_KEY_LENGTH) {
    throw new RangeError(`lexorank: maxLength must be 1..${MAX_KEY_LENGTH}, got ${maxLength}`);
  }
}

/**
 * `count` keys strictly between lo and hi (null = open end), ascending and evenly spaced
 * at the shortest length that holds them all; null when even `maxLength` cannot.
 * spread(1, a, b) equals between(a, b) for a bounded gap. Throws RangeError on bad input.
 */
export function spread(
  count: number,
  lo: string | null,
  hi: string | null,
  maxLength: number = MAX_KEY_LENGTH,
): string[] | null {
  if (!Number.isSafeInteger(count) || count < 0) {
    throw new RangeError(`lexorank: spread count must be a non-negative integer, got ${count}`);
  }
  checkMaxLength(maxLength);
  checkBounds(lo, hi);
  if (count === 0) return [];
  for (let len = 1; len <= maxLength; len++) {
    const [min, max] = candidates(lo, hi, len);
    if (max - min + 1 < count) continue;
    // Spacing over the open interval (min - 1, max + 1); span >= count + 1 keeps keys distinct.
    const base = BigInt(min - 1);
    const span = BigInt(max - min + 2);
    const parts = BigInt(count + 1);
    const keys: string[] = [];
    for (let k = 1; k <= count; k++) {
      keys.push(encode(Number(base + (BigInt(k) * span) / parts), len));
    }
    return keys;
  }
  return null;
}

export interface RekeyedWindow {
  /** New keys for the window's existing items, in the same order. */
  keys: string[];
  /** The key for the new item, which sits at `insertAt` among them. */
  inserted: string;
}

/**
 * Re-keys a window of consecutive items strictly between lo and hi (their untouched outer
 * neighbours, null = list end) to make room for a new item at index `insertAt` of the
 * window (0..keys.length). Null when the window is too crowded: widen it and try again.
 * Order is kept, so a re-key never changes what the user sees (LEX-4).
 */
export function rekeyWindow(
  keys: readonly string[],
  insertAt: number,
  lo: string | null,
  hi: string | null,
  maxLength: number = MAX_KEY_LENGTH,
): RekeyedWindow | null {
  if (!Number.isInteger(insertAt) || insertAt < 0 || insertAt > keys.length) {
    throw new RangeError(`lexorank: insertAt ${insertAt} outside 0..${keys.length}`);
  }
  let prev = lo;
  for (const key of keys) {
    if (!isValidKey(key) || (prev !== null && prev >= key)) {
      throw new RangeError(`lexorank: window key ${JSON.stringify(key)} invalid or out of order`);
    }
    prev = key;
  }
  if (prev !== null && hi !== null && prev >= hi) {
    throw new RangeError(`lexorank: window does not fit below ${hi}`);
  }
  const fresh = spread(keys.length + 1, lo, hi, maxLength);
  if (fresh === null) return null;
  return { keys: [...fresh.slice(0, insertAt), ...fresh.slice(insertAt + 1)], inserted: fresh[insertAt]! };
}

export interface InsertPlan {
  /** Key of the new item. */
  key: string;
  /** Index in the original list of the first re-keyed item (meaningless when `rekeyed` is empty). */
  start: number;
  /** New keys for items start..start + rekeyed.length - 1 of the original list. */
  rekeyed: string[];
}

/**
 * Where a new item goes at `index` of an ordered list of keys: between() when the gap has
 * room, otherwise rekeyWindow() on a window around the gap that doubles until its keys fit
 * in REBALANCE_THRESHOLD characters (MAX_KEY_LENGTH once the window is the whole list).
 * Packing a window at the full 10 characters would leave its neighbourhood crowded, so the
 * next inserts there would re-key again and again; stopping at 8 leaves room to halve into.
 */
export function planInsert(keys: readonly string[], index: number): InsertPlan {
  if (!Number.isInteger(index) || index < 0 || index > keys.length) {
    throw new RangeError(`lexorank: index ${index} outside 0..${keys.length}`);
  }
  const key = between(keys[index - 1] ?? null, keys[index] ?? null);
  if (key !== null) return { key, start: index, rekeyed: [] };
  for (let radius = 1; ; radius *= 2) {
    const start = Math.max(0, index - radius);
    const end = Math.min(keys.length, index + radius);
    const whole = start === 0 && end === keys.length;
    const lo = keys[start - 1] ?? null;
    const hi = keys[end] ?? null;
    const slice = keys.slice(start, end);
    const window =
      rekeyWindow(slice, index - start, lo, hi, REBALANCE_THRESHOLD) ??
      (whole ? rekeyWindow(slice, index - start, lo, hi) : null);
    if (window !== null) return { key: window.inserted, start, rekeyed: window.keys };
    if (whole) {
      throw new RangeError(`lexorank: ${keys.length + 1} keys cannot fit in ${MAX_KEY_LENGTH} characters`);
    }
  }
}
