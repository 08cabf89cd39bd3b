import { type TextOp, type as textType } from "ot-text-unicode";

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
}

export type RebaseOutcome =
  | { kind: "applied"; version: number; textOp: TextOp; content: string; mine: string | null }
  | { kind: "blocked"; version: number; mine: string | null }
  | { kind: "invalid"; version: number; code: "invalid_op" | "stale_base"; message: string };

function tryApply(doc: string | null, op: TextOp): string | null {
  if (doc === null) return null;
  try {
    return textType.apply(doc, op);
  } catch {
    return null;
  }
}

/**
 * MUT-5: transforms a text op written against `baseVersion` over every text op applied since
 * (ShareDB's convention: the incoming op takes the "left" side), then applies it to the current
 * content. `blocked` means the content was replaced wholesale since the base — the database then
 * reports the conflict (MUT-4).
 */
export function rebaseTextOp(input: RebaseInput): RebaseOutcome {
  const { op, baseVersion, version, content, baseContent, history } = input;
  const mine = tryApply(baseContent, op);
  const since = history.filter((h) => h.version > baseVersion && h.version <= version);
  if (since.length !== version - baseVersion) {
    return {
      kind: "invalid",
      version,
      code: "stale_base",
      message: `base_version ${baseVersion} is older than the history kept for this block; reload it`,
    };
  }
  let transformed = op;
  for (const entry of since) {
    if (entry.content_set) return { kind: "blocked", version, mine };
    if (entry.text_op) transformed = textType.transform(transformed, entry.text_op, "left");
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
