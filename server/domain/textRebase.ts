import { type TextOp, type as textType } from "ot-text-unicode";
import { codePoints, textOpSpan } from "../protocol/textOp";

export { codePoints, textOpSpan };

/** An applied op on a block after the base version, as the op log holds it. */
export interface HistoryEntry {
  version: number;
  text_op: TextOp | null;
  /** The op replaced the content wholesale: a stale text op cannot merge over it. */
  content_set: boolean;
}

export interface RebaseInput {
  op: TextOp;
  baseVersion: number;
  /** The block's current version and content (inside the locked transaction). */
  version: number;
  content: string;
  /** The content at `baseVersion`, when still known (for the conflict panel's "mine"). */
  baseContent: string | null;
  /** Every applied op after `baseVersion`, oldest first. */
  history: readonly HistoryEntry[];
  /** The longest text a block may hold, in characters (code points); unbounded when absent. */
  maxLength?: number;
}

export type RebaseOutcome =
  | { kind: "applied"; version: number; textOp: TextOp; content: string; mine: string | null }
  | { kind: "blocked"; version: number; mine: string | null }
  | { kind: "invalid"; version: number; code: "invalid_op" | "stale_base"; message: string };

/**
 * SEC-5: ot-text-unicode's `apply` walks every skip and delete count character by character,
 * even past the end of the text (a skip of 1e8 over 5 characters took 8.7 s before it threw).
 * Every apply goes through here: an op that reaches past the end is refused by arithmetic on
 * its components before the library sees it, so the cost is bounded by the text and the op.
 */
function fits(length: number, op: TextOp): boolean {
  return textOpSpan(op).consumed <= length;
}

function tryApply(doc: string | null, op: TextOp): string | null {
  if (doc === null || !fits(codePoints(doc), op)) return null;
  try {
    return textType.apply(doc, op);
  } catch {
    return null;
  }
}

const tooLong = (version: number, consumed: number, length: number): RebaseOutcome => ({
  kind: "invalid",
  version,
  code: "invalid_op",
  message: `text_op does not fit the text: it skips and deletes ${consumed} characters of a text of ${length}`,
});

/**
 * MUT-5: transforms a text op written against `baseVersion` over every text op applied since
 * (ShareDB's convention: the incoming op takes the "left" side), then applies it to the current
 * content. `blocked` means the content was replaced wholesale since the base — the database then
 * reports the conflict (MUT-4).
 *
 * SEC-5: before any transform or apply, the op must fit the base text: its skips and deletes may
 * not reach past the text's end. The base text's length is the current one minus what the ops
 * since the base added (they are applied ops, so they fit). Transforming is linear in the
 * components of the ops (counts are added, never walked); the apply is then linear in the text.
 */
export function rebaseTextOp(input: RebaseInput): RebaseOutcome {
  const { op, baseVersion, version, content, baseContent, history, maxLength } = input;
  const since = history.filter((h) => h.version > baseVersion && h.version <= version);
  if (since.length !== version - baseVersion) {
    return {
      kind: "invalid",
      version,
      code: "stale_base",
      message: `base_version ${baseVersion} is older than the history kept for this block; reload it`,
    };
  }
  const { consumed } = textOpSpan(op);
  if (baseContent !== null) {
    const baseLength = codePoints(baseContent);
    if (consumed > baseLength) return tooLong(version, consumed, baseLength);
  }
  const mine = tryApply(baseContent, op);
  if (since.some((entry) => entry.content_set)) return { kind: "blocked", version, mine };

  const length = codePoints(content);
  let baseLength = length;
  for (const entry of since) {
    if (!entry.text_op) continue;
    const span = textOpSpan(entry.text_op);
    baseLength -= span.inserted - span.deleted;
  }
  if (consumed > baseLength) return tooLong(version, consumed, baseLength);

  let transformed = op;
  for (const entry of since) {
    if (entry.text_op) transformed = textType.transform(transformed, entry.text_op, "left");
  }
  const span = textOpSpan(transformed);
  // Guaranteed by the check above when the history is sound; cheap, and it keeps apply bounded.
  if (span.consumed > length) return tooLong(version, span.consumed, length);
  const nextLength = length - span.deleted + span.inserted;
  if (maxLength !== undefined && nextLength > maxLength) {
    return {
      kind: "invalid",
      version,
      code: "invalid_op",
      message: `text_op would make the text ${nextLength} characters long; a block holds at most ${maxLength}`,
    };
  }
  try {
    const next = textType.apply(content, transformed);
    return { kind: "applied", version, textOp: textType.normalize(transformed), content: next, mine };
  } catch (error) {
    return {
      kind: "invalid",
      version,
      code: "invalid_op",
      message: `text_op does not fit the text: ${(error as Error).message}`,
    };
  }
}
