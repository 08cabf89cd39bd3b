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

export function diffText(before: string, after: string, caret?: number): TextChange {
  const hinted = caret === undefined ? null : diffAtCaret(before, after, caret);
  if (hinted) return hinted;
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

/**
 * With repeated characters the prefix/suffix split is ambiguous ("aa" → "aaa"): the caret after a
 * keystroke says where it really happened, which matters when the op is merged with others'
 * edits. Used only when it explains the change as one insert or one delete at the caret.
 */
function diffAtCaret(before: string, after: string, caret: number): TextChange | null {
  const delta = after.length - before.length;
  if (delta > 0) {
    const at = caret - delta;
    if (at < 0 || caret > after.length) return null;
    if (after.slice(0, at) !== before.slice(0, at) || after.slice(caret) !== before.slice(at)) return null;
    if (splitsPair(after, at) || splitsPair(after, caret)) return null;
    return { prefix: at, suffix: before.length - at, removed: "", inserted: after.slice(at, caret) };
  }
  if (delta < 0) {
    const end = caret - delta;
    if (caret < 0 || end > before.length) return null;
    if (before.slice(0, caret) !== after.slice(0, caret) || before.slice(end) !== after.slice(caret))
      return null;
    if (splitsPair(before, caret) || splitsPair(before, end)) return null;
    return { prefix: caret, suffix: before.length - end, removed: before.slice(caret, end), inserted: "" };
  }
  return null;
}

/** Offset `i` falls between the two halves of a surrogate pair. */
function splitsPair(s: string, i: number): boolean {
  return i > 0 && i < s.length && isHigh(s.charCodeAt(i - 1)) && isLow(s.charCodeAt(i));
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
 * `caret`: the textarea's caret after the edit (UTF-16), to place the change where it was typed.
 */
export function textOpFromDiff(before: string, after: string, caret?: number): TextOp | null {
  if (before === after) return null;
  const { prefix, removed, inserted } = diffText(before, after, caret);
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
