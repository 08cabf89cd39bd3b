import { type as textType } from "ot-text-unicode";
import { sameChange } from "../conflictDiff";
import type { CreateInput, UpdateFields } from "./options";
import type { PendingOp } from "./pendingStore";
import type { BlockJson, ConflictField, ConflictItem, Op, OpResult, TextOp } from "./types";

/**
 * UI-4: the conflict panel's item for a `conflict` result, with `mine` as the user saw it: `view`
 * is the block with the refused ops still applied (or as last seen, if deleted). `followers` are
 * stale keystroke batches right behind the op that join it (their text is part of `mine`). Null
 * when there is nothing to choose (MUT-10: the other person made the same change).
 */
export function conflictItem(args: {
  /** The item's id, asked for only when there is an item. */
  newId: () => string;
  result: OpResult;
  p: PendingOp;
  followers: readonly PendingOp[];
  view: BlockJson | undefined;
}): ConflictItem | null {
  const { result: r, p, followers, view } = args;
  const op = p.wire ?? p.op;
  const fields = (r.conflict?.fields ?? []).map((f) => {
    if (f.field !== "content") return f;
    let mine = typeof f.mine === "string" ? f.mine : textMine(f, op);
    for (const q of followers) {
      if (mine === null) break;
      try {
        mine = textType.apply(mine, q.op.text_op as TextOp);
      } catch {
        mine = null;
      }
    }
    return { ...f, mine: mine ?? view?.content ?? "" };
  });
  // MUT-10: the other person made the same update (theirs = mine in every field): there is
  // nothing to choose, and the view already shows that value.
  const stale = r.conflict?.reason === "stale_fields" && op.action === "update";
  if (stale && fields.length > 0 && fields.every(sameChange)) return null;
  return {
    id: args.newId(),
    blockId: p.op.block_id,
    reason: r.conflict?.reason ?? "stale_fields",
    fields,
    op,
    result: r,
    ...(view ? { block: view } : {}),
  };
}

/** Unsent stale text ops right behind `p` on its block (typed before the same foreign replace). */
export function staleFollowers(pending: readonly PendingOp[], p: PendingOp): PendingOp[] {
  if (p.op.text_op === undefined) return [];
  const out: PendingOp[] = [];
  for (const q of pending.slice(pending.indexOf(p) + 1)) {
    if (q.op.block_id !== p.op.block_id) continue;
    if (!q.stale || q.wire || q.op.text_op === undefined || q.op.content !== undefined) break;
    out.push(q);
  }
  return out;
}

/** A text edit's "mine" as a string: its op applied to the base content the server reported. */
function textMine(f: ConflictField, op: Op): string | null {
  if (typeof f.base !== "string" || op.text_op === undefined) return null;
  try {
    return textType.apply(f.base, op.text_op as TextOp);
  } catch {
    return null; // the op does not fit that base: the caller falls back to the view
  }
}

/** What "Keep mine" sends (UI-4), as ordinary user ops. */
export type Resubmission =
  | { kind: "none" }
  | { kind: "recreate"; block: BlockJson }
  | { kind: "delete" }
  | { kind: "update"; fields: UpdateFields; position?: { after?: string; before?: string } };

/**
 * UI-4 "Keep mine": the conflicted fields set to `mine` (text: the `mine` string, as content)
 * against the current version; a block deleted under our op re-created from what we last saw (the
 * server refuses to re-use a block_id: `exists`). `live` is the block in the view now.
 */
export function resubmission(
  item: ConflictItem,
  live: BlockJson | undefined,
  lastSeen: BlockJson | undefined,
): Resubmission {
  const { op } = item;
  if (item.reason === "deleted" || !live) {
    if (op.action === "delete" || live) return { kind: "none" }; // gone either way / someone restored it
    const b = item.block ?? lastSeen;
    return b ? { kind: "recreate", block: b } : { kind: "none" };
  }
  if (op.action === "delete") return { kind: "delete" };
  const fields: UpdateFields = {};
  if (op.type !== undefined) fields.type = op.type;
  if (op.props !== undefined) fields.props = op.props;
  if (op.parent_id !== undefined) fields.parent_id = op.parent_id;
  if (op.content !== undefined) fields.content = op.content;
  for (const f of item.fields) {
    if (f.field === "content" && typeof f.mine === "string") fields.content = f.mine;
    else if (f.field === "type") fields.type = f.mine as UpdateFields["type"];
    else if (f.field === "props") fields.props = f.mine as UpdateFields["props"];
    else if (f.field === "parent_id") fields.parent_id = f.mine as UpdateFields["parent_id"];
  }
  // A text edit that did not conflict on content rides along as the text we showed.
  if (op.text_op !== undefined && fields.content === undefined && item.block)
    fields.content = item.block.content;
  return {
    kind: "update",
    fields,
    ...(op.position ? { position: { after: op.position.after, before: op.position.before } } : {}),
  };
}

/**
 * A block as last seen, as a create in the same place of the view now (after its last earlier
 * neighbour, else before the first block), under its parent if that is still there.
 */
export function recreateInput(
  b: BlockJson,
  view: ReadonlyMap<string, BlockJson>,
  order: readonly BlockJson[],
): CreateInput {
  const prev = order.filter((x) => x.y_order < b.y_order).at(-1);
  const first = order[0];
  return {
    type: b.type,
    content: b.content,
    props: b.props,
    parent_id: b.parent_id && view.has(b.parent_id) ? b.parent_id : null,
    ...(prev
      ? { position: { after: prev.block_id } }
      : first
        ? { position: { before: first.block_id } }
        : {}),
  };
}
