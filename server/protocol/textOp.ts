/**
 * Text ops on the wire (MUT-5): the shape of an `ot-text-unicode` op — skips (positive
 * integers), inserts (non-empty strings), deletes (`{ d }`: a positive count or the deleted
 * text) — and the arithmetic the protocol's bounds use, with no dependency on the library (the
 * server and the client apply ops with it; the protocol only has to agree on what one is).
 */

/** One component of a text op. */
export type TextOpComponent = number | string | { d: number | string };
/** An `ot-text-unicode` op, as it travels. */
export type TextOp = TextOpComponent[];

/** Characters (code points, as ot-text-unicode and PostgreSQL's char_length count them) of a string. */
export function codePoints(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      n--;
      i++;
    }
  }
  return n;
}

/**
 * What an op does to the text it is applied to, in characters: `consumed` is what it reads of it
 * (skips + deletes), `deleted` and `inserted` what it removes and adds.
 */
export function textOpSpan(op: readonly TextOpComponent[]): {
  consumed: number;
  deleted: number;
  inserted: number;
} {
  let skipped = 0;
  let deleted = 0;
  let inserted = 0;
  for (const c of op) {
    if (typeof c === "number") skipped += c;
    else if (typeof c === "string") inserted += codePoints(c);
    else deleted += typeof c.d === "number" ? c.d : codePoints(c.d);
  }
  return { consumed: skipped + deleted, deleted, inserted };
}

/**
 * The rules of a well-formed op beyond each component's own (as ot-text-unicode's `checkOp`
 * states them): no two skips in a row and no trailing skip. Null when it is well-formed, else why not.
 */
export function textOpProblem(op: readonly TextOpComponent[]): string | null {
  for (let i = 1; i < op.length; i++) {
    if (typeof op[i] === "number" && typeof op[i - 1] === "number")
      return "adjacent skip components should be combined";
  }
  if (typeof op[op.length - 1] === "number") return "op has a trailing skip";
  return null;
}
