import { type as textType } from "ot-text-unicode";
import { MAX_OPS_PER_REQUEST } from "../../../server/protocol/limits";
import { applyPending, diffOp, invertTextOp } from "./localApply";
import type { PendingOp } from "./pendingStore";
import type { BlockJson, Op, OpEvent, TextOp } from "./types";

const TEXT_ONLY_KEYS = new Set([
  "client_op_id",
  "action",
  "block_id",
  "base_version",
  "prev_client_op_id",
  "text_op",
]);

/**
 * A keystroke may join `last` when it is an unsent text-only edit of the same block and not stale
 * (typed on text replaced since: a new keystroke is typed on the new text). Unsent is enough: an
 * op still waiting (window, pacing, or its block's previous op in flight) takes every keystroke
 * typed meanwhile, so a fast typist costs few requests (MUT-7), not one per key.
 */
export function canComposeKeystroke(last: PendingOp, blockId: string): boolean {
  return (
    !last.wire &&
    !last.stale &&
    last.op.action === "update" &&
    last.op.block_id === blockId &&
    last.op.text_op !== undefined &&
    Object.keys(last.op).every((k) => TEXT_ONLY_KEYS.has(k))
  );
}

/**
 * The next request: pending ops from the front, in order, one per block, and a block's next op
 * only once the previous one's event is in (its base_version and rebased text_op depend on it).
 * Stops at the first op that must wait, so order is kept; `waitMs` when a batching window is open.
 */
export function selectBatch(
  pending: readonly PendingOp[],
  now: number,
  windowMs: number,
  maxBatchMs = Number.POSITIVE_INFINITY,
): { batch: PendingOp[]; waitMs?: number } {
  const batch: PendingOp[] = [];
  const busy = new Set<string>();
  for (const p of pending) {
    if (p.ackSeq !== undefined) {
      busy.add(p.op.block_id);
      continue;
    }
    if (busy.has(p.op.block_id)) break;
    const age = now - (p.touchedAt ?? Number.NEGATIVE_INFINITY);
    const open = now - (p.startedAt ?? p.touchedAt ?? Number.NEGATIVE_INFINITY);
    if (!p.wire && age < windowMs && open < maxBatchMs)
      return { batch, waitMs: Math.min(windowMs - age, maxBatchMs - open) };
    batch.push(p);
    busy.add(p.op.block_id);
    if (batch.length === MAX_OPS_PER_REQUEST) break;
  }
  return { batch };
}

/** An update that only edits text: its base may follow the text it is rebased onto (MUT-9). */
function textOnly(p: PendingOp): boolean {
  return (
    p.op.action === "update" &&
    p.op.text_op !== undefined &&
    Object.keys(p.op).every((k) => TEXT_ONLY_KEYS.has(k))
  );
}

/**
 * Takes an applied op event (already in the confirmed state) into the pending queue. Our own op
 * leaves the queue. A foreign text op is transformed into our pending text ops the way the server
 * will take them: the server transforms an incoming op over committed ones with ours on the
 * "left", so ours go "left" here and theirs "right". A foreign wholesale content change makes
 * unsent text ops stale: they keep their old base so the server reports the conflict (MUT-4)
 * instead of misplacing them.
 *
 * Bases (MUT-9): an unsent text-only op is rebased over every text change it is put after, so its
 * base follows the version its text now applies to. Any other op keeps the version its author had
 * seen when making it — the server judges its fields against that, and its chain link
 * (`prev_client_op_id`) tells it which later changes were this client's own. An op made while its
 * block was still our unconfirmed create takes the create's version.
 */
export function rebaseOverEvent(
  pending: readonly PendingOp[],
  e: OpEvent,
  before: BlockJson | undefined,
): PendingOp[] {
  const own = pending.findIndex((p) => p.op.client_op_id === e.client_op_id && p.op.block_id === e.block_id);
  const next = pending.filter((_, i) => i !== own);
  const later = pending.filter((p, i) => p.op.block_id === e.block_id && i > own);
  if (own >= 0) {
    if (e.action !== "delete")
      for (const p of later) {
        if (p.wire || p.op.action === "create") continue;
        if (p.op.base_version === undefined || (textOnly(p) && !p.stale)) p.op.base_version = e.version;
      }
    return next;
  }
  let theirs = (e.text_op as TextOp | undefined) ?? null;
  const replaced = contentReplaced(e, before);
  for (const p of later) {
    const mine = p.op.text_op as TextOp | undefined;
    if (mine === undefined) continue;
    if (theirs) {
      p.op.text_op = textType.transform(mine, theirs, "left") as Op["text_op"];
      theirs = textType.transform(theirs, mine, "right");
      if (!p.wire && !p.stale && textOnly(p)) p.op.base_version = e.version;
    } else if (replaced && !p.wire) p.stale = true;
  }
  return next;
}

/** The event replaced the block's text wholesale (RT-9: `set.content`), changing it. */
export function contentReplaced(e: OpEvent, before: BlockJson | undefined): boolean {
  return e.set?.content !== undefined && before !== undefined && before.content !== e.set.content;
}

/**
 * The queue without an op the server refused (`p`, by identity). Later unsent text ops on its
 * block were typed on a view that had its change: they are transformed past the inverse of that
 * change, so they still mean the same place without it (otherwise they would show, and be sent,
 * misplaced). The ops changed are copies; `pending` is left as it was.
 */
export function withoutRejected(
  pending: readonly PendingOp[],
  p: PendingOp,
  confirmed: ReadonlyMap<string, BlockJson>,
  canvasId: string,
): PendingOp[] {
  const id = p.op.block_id;
  const one = new Map<string, BlockJson>();
  const c = confirmed.get(id);
  if (c) one.set(id, c);
  let undo: TextOp | null = null;
  /** A later op replaced the content wholesale: ops after it no longer depend on the refused change. */
  let replaced = false;
  const out: PendingOp[] = [];
  for (const q of pending) {
    if (q === p) {
      const before = one.get(id)?.content;
      applyPending(one, q, canvasId);
      const after = one.get(id)?.content;
      if (before !== undefined && after !== undefined && before !== after)
        undo = invertText(q.op.text_op as TextOp | undefined, before, after);
      continue;
    }
    if (replaced || q.op.block_id !== id || !undo) {
      out.push(q);
      continue;
    }
    if (q.op.content !== undefined) replaced = true;
    const mine = q.op.text_op as TextOp | undefined;
    if (replaced || mine === undefined || q.wire) {
      out.push(q);
      continue;
    }
    // "right": text typed at the edge of the dropped change lands after what comes back (typing
    // usually continues at the end of a replaced text).
    out.push({ ...q, op: { ...q.op, text_op: textType.transform(mine, undo, "right") as Op["text_op"] } });
    undo = textType.transform(undo, mine, "left");
  }
  return out;
}

/** The text op taking `after` back to `before`: the inverse of `op` when it was a text op, else a diff. */
function invertText(op: TextOp | undefined, before: string, after: string): TextOp | null {
  if (op !== undefined) {
    try {
      const inverse = invertTextOp(op, before);
      if (textType.apply(after, inverse) === before) return inverse;
    } catch {
      // not invertible against this text: fall back to the diff
    }
  }
  return diffOp(after, before);
}
