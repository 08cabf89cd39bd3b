import { type as textType } from "ot-text-unicode";
import type { PendingOp } from "./pendingStore";
import type { BlockJson, TextOp } from "./types";

/** Document order: byte order of y_order (LEX-0); ties (optimistic keys) by block id. */
export function byDocumentOrder(a: BlockJson, b: BlockJson): number {
  if (a.y_order !== b.y_order) return a.y_order < b.y_order ? -1 : 1;
  return a.block_id < b.block_id ? -1 : a.block_id > b.block_id ? 1 : 0;
}

/** Applies one pending op to a working copy of the blocks, as the server would (optimistically). */
export function applyPending(blocks: Map<string, BlockJson>, p: PendingOp, canvasId: string): void {
  const { op } = p;
  if (op.action === "create") {
    if (blocks.has(op.block_id)) return;
    blocks.set(op.block_id, {
      block_id: op.block_id,
      canvas_id: canvasId,
      parent_id: op.parent_id ?? null,
      type: op.type ?? "text",
      content: op.content ?? "",
      props: op.props ?? {},
      y_order: p.yOrder ?? "~",
      version: 0,
      created_at: "",
      created_by: null,
      updated_at: "",
      updated_by: null,
    });
    return;
  }
  const current = blocks.get(op.block_id);
  if (!current) return;
  if (op.action === "delete") {
    // The server deletes the block's live descendants with it.
    const gone = new Set([op.block_id]);
    blocks.delete(op.block_id);
    for (let more = true; more; ) {
      more = false;
      for (const b of blocks.values())
        if (b.parent_id !== null && gone.has(b.parent_id)) {
          gone.add(b.block_id);
          blocks.delete(b.block_id);
          more = true;
        }
    }
    return;
  }
  const next: BlockJson = { ...current };
  if (op.type !== undefined) next.type = op.type;
  if (op.parent_id !== undefined) next.parent_id = op.parent_id;
  if (op.content !== undefined) next.content = op.content;
  if (op.props !== undefined) {
    // A props patch merges shallowly and null removes a key, as on the server.
    const props: Record<string, unknown> = { ...current.props, ...op.props };
    for (const [k, v] of Object.entries(op.props)) if (v === null) delete props[k];
    next.props = props;
  }
  // A stale text op was typed on text that has since been replaced: it cannot be placed in the new
  // text, so it is not shown; the server's conflict (UI-4) brings it back as "mine".
  if (op.text_op !== undefined && !p.stale) {
    try {
      next.content = textType.apply(next.content, op.text_op as TextOp);
    } catch {
      // The op no longer fits (content replaced under it): the server's answer will settle it.
    }
  }
  if (op.position !== undefined && p.yOrder !== undefined) next.y_order = p.yOrder;
  blocks.set(op.block_id, next);
}

/** ot-text-unicode 4 has these at runtime, but its type declarations leave them out. */
const textExtras = textType as unknown as {
  invertWithDoc(op: TextOp, doc: string): TextOp;
  stripInvertible(op: TextOp): TextOp;
  isNoop(op: TextOp): boolean;
};

/** The op that undoes `op` applied to `doc` (deletes as counts, not the deleted text). Throws if it does not fit. */
export function invertTextOp(op: TextOp, doc: string): TextOp {
  return textExtras.stripInvertible(textExtras.invertWithDoc(op, doc));
}

export function isNoopTextOp(op: TextOp): boolean {
  return textExtras.isNoop(op);
}

/** A text op turning `from` into `to` (common prefix and suffix kept), in code points; null if equal. */
export function diffOp(from: string, to: string): TextOp | null {
  if (from === to) return null;
  const a = Array.from(from);
  const b = Array.from(to);
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let end = 0;
  while (end < a.length - start && end < b.length - start && a[a.length - 1 - end] === b[b.length - 1 - end])
    end++;
  const removed = a.length - start - end;
  const inserted = b.slice(start, b.length - end).join("");
  const op: TextOp = [];
  if (start > 0) op.push(start);
  if (removed > 0) op.push({ d: removed });
  if (inserted) op.push(inserted);
  return textType.normalize(op);
}
