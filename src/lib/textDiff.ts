import type { TextOp } from "ot-text-unicode";

const isHigh = (c: number) => c >= 0xd800 && c <= 0xdbff;
const isLow = (c: number) => c >= 0xdc00 && c <= 0xdfff;

/** The single changed span between two strings, in UTF-16 units, never splitting a surrogate pair. */
export interface TextChange {
  /** Units kept unchanged at the start. */
  prefix: number;
  /** Units kept unchanged at the end. */
  suffix: number;
  removed: string;
  inserted: string;
}

export function diffText(before: string, after: string): TextChange {
  const max = Math.min(before.length, after.length);
  let prefix = 0;
  while (prefix < max && before.charCodeAt(prefix) === after.charCodeAt(prefix)) prefix++;
  // Two emoji sharing a high surrogate: the change starts at the pair, not inside it.
  if (prefix > 0 && isHigh(before.charCodeAt(prefix - 1))) prefix--;
  let suffix = 0;
  while (
    suffix < max - prefix &&
    before.charCodeAt(before.length - 1 - suffix) === after.charCodeAt(after.length - 1 - suffix)
  )
    suffix++;
  if (suffix > 0 && isLow(before.charCodeAt(before.length - suffix))) suffix--;
  return {
    prefix,
    suffix,
    removed: before.slice(prefix, before.length - suffix),
    inserted: after.slice(prefix, after.length - suffix),
  };
}

/** Unicode code points in a string: ot-text-unicode counts positions in code points, not UTF-16 units. */
export function codePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    if (!(isHigh(s.charCodeAt(i)) && isLow(s.charCodeAt(i + 1)))) n++;
  }
  return n;
}

/**
 * The ot-text-unicode op turning `before` into `after` (one retain, delete, insert), or null when
 * they are equal. Deletes are sent as counts: the server checks them against its own text.
 */
export function textOpFromDiff(before: string, after: string): TextOp | null {
  if (before === after) return null;
  const { prefix, removed, inserted } = diffText(before, after);
  const op: TextOp = [];
  const skip = codePoints(before.slice(0, prefix));
  if (skip > 0) op.push(skip);
  if (removed.length > 0) op.push({ d: codePoints(removed) });
  if (inserted.length > 0) op.push(inserted);
  return op;
}

/**
 * Where a caret (UTF-16 offset) belongs after the text changed from `before` to `after` under it
 * (a remote edit): before the change it stays, after it shifts, inside a replaced span it lands
 * at the end of the new text.
 */
export function transformCaret(before: string, after: string, caret: number): number {
  if (before === after) return caret;
  const { prefix, suffix, inserted } = diffText(before, after);
  if (caret <= prefix) return caret;
  if (caret >= before.length - suffix) return caret + after.length - before.length;
  return prefix + inserted.length;
}
