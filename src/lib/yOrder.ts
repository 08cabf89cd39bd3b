const DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz";

/**
 * A base-36 key strictly between `a` and `b` (null = open end), for optimistic display only:
 * the server computes the real y_order (LEX-1) and its block replaces ours.
 */
export function yOrderBetween(a: string | null, b: string | null): string {
  const lo = a ?? "";
  if (b !== null && lo >= b) return `${lo}i`;
  return midpoint(lo, b);
}

function midpoint(a: string, b: string | null): string {
  if (b !== null) {
    let n = 0;
    while (n < b.length && (a[n] ?? "0") === b[n]) n++;
    if (n > 0) return b.slice(0, n) + midpoint(a.slice(n), b.slice(n));
  }
  const da = a ? DIGITS.indexOf(a[0] ?? "0") : 0;
  const db = b !== null && b.length > 0 ? DIGITS.indexOf(b[0] ?? "0") : DIGITS.length;
  if (db - da > 1) return DIGITS[Math.round((da + db) / 2)] ?? "i";
  if (b !== null && b.length > 1) return b.slice(0, 1);
  return (DIGITS[da] ?? "0") + midpoint(a.slice(1), null);
}
