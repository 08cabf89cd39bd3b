import { type as textType } from "ot-text-unicode";
import { applyPending, byDocumentOrder } from "./localApply";
import { contentReplaced } from "./pendingQueue";
import type { PendingOp } from "./pendingStore";
import type { BlockJson, OpEvent, TextOp } from "./types";

/** How a remote op event looks from the view (for undo: UI-5). */
export interface RemoteOpInfo {
  /** The event's text_op transformed over our pending text ops on the block: it applies to the view. */
  viewTextOp: TextOp | null;
  /** The content was replaced wholesale (no text_op): text positions from before no longer hold. */
  contentReplaced: boolean;
}

/** UI-3: the view — the confirmed state with the pending ops applied on top, in document order. */
export function viewOfAll(
  confirmed: ReadonlyMap<string, BlockJson>,
  pending: readonly PendingOp[],
  canvasId: string,
): { byId: Map<string, BlockJson>; blocks: BlockJson[] } {
  const byId = new Map(confirmed);
  for (const p of pending) applyPending(byId, p, canvasId);
  return { byId, blocks: [...byId.values()].sort(byDocumentOrder) };
}

/** One block of the view: confirmed with its pending ops applied. */
export function viewOf(
  confirmed: ReadonlyMap<string, BlockJson>,
  pending: readonly PendingOp[],
  blockId: string,
  canvasId: string,
): BlockJson | undefined {
  const one = new Map<string, BlockJson>();
  const c = confirmed.get(blockId);
  if (c) one.set(blockId, c);
  for (const p of pending) if (p.op.block_id === blockId) applyPending(one, p, canvasId);
  return one.get(blockId);
}

/** A foreign event as the view sees it: its text_op past our pending text ops (as rebaseOverEvent does). */
export function remoteInfo(
  e: OpEvent,
  before: BlockJson | undefined,
  pending: readonly PendingOp[],
): RemoteOpInfo {
  let theirs = (e.text_op as TextOp | undefined) ?? null;
  if (theirs)
    for (const p of pending)
      if (p.op.block_id === e.block_id && p.op.text_op !== undefined)
        theirs = textType.transform(theirs, p.op.text_op as TextOp, "right");
  return { viewTextOp: theirs, contentReplaced: contentReplaced(e, before) };
}
