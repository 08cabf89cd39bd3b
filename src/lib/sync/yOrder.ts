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

/** The optimistic key for a block placed at `position` (none: at the end) among `order`. */
export function yOrderFor(
  order: readonly { block_id: string; y_order: string }[],
  blockId: string,
  position?: { after?: string; before?: string },
): string {
  const rest = order.filter((b) => b.block_id !== blockId);
  let lo: { y_order: string } | undefined;
  let hi: { y_order: string } | undefined;
  if (!position || (!position.after && !position.before)) lo = rest.at(-1);
  else if (position.after) {
    const i = rest.findIndex((b) => b.block_id === position.after);
    lo = rest[i];
    hi = position.before ? rest.find((b) => b.block_id === position.before) : rest[i + 1];
  } else {
    const i = rest.findIndex((b) => b.block_id === position.before);
    hi = rest[i];
    lo = i > 0 ? rest[i - 1] : undefined;
  }
  return yOrderBetween(lo?.y_order ?? null, hi?.y_order ?? null);
}
