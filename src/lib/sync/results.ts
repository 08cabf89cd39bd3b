import { conflictItem, staleFollowers } from "./conflicts";
import { withoutRejected } from "./pendingQueue";
import type { PendingOp } from "./pendingStore";
import { salvageCreate } from "./salvage";
import type { BlockJson, ConflictItem, Op, OpResult } from "./types";
import { viewOf } from "./view";

/**
 * Failed results worth resending with the same client_op_id (the server allows it for these:
 * mutation_core's idempotency check lets a rate_limited / internal / timeout attempt run again).
 */
export const RETRY_CODES: ReadonlySet<string> = new Set(["rate_limited", "internal", "timeout"]);

export interface ResultsContext {
  /** The queue now (the batch's ops are in it unless their events came first). */
  pending: readonly PendingOp[];
  confirmed: ReadonlyMap<string, BlockJson>;
  serverSeq: number;
  canvasId: string;
  /** The view in document order, as the user sees it (where a refused create is re-placed). */
  view: readonly BlockJson[];
  /** Blocks others deleted, as last shown: a "deleted" conflict's `mine`. */
  lastSeen: ReadonlyMap<string, BlockJson>;
  uuid: () => string;
}

/** What the engine tells its onConflict / onError listeners, in batch order. */
export type ResultNotice =
  | { kind: "conflict"; result: OpResult; op: Op }
  | { kind: "error"; error: unknown; op: Op };

export interface ResultsOutcome {
  /** The queue after the results. */
  pending: PendingOp[];
  /** New items for the conflict panel (UI-4). */
  conflicts: ConflictItem[];
  notices: ResultNotice[];
  /** An op got no result, or a failure worth a retry: send again after a backoff. */
  retry: boolean;
  /** A success waits for its event in the stream (polling: fetch now rather than at the next tick). */
  acked: boolean;
}

/**
 * UI-3: what a mutate answer does to the queue, as a pure function (nothing passed in changes).
 *
 * - no result, or `failed` with a retryable code: the op stays as sent (resent byte-identical, MUT-3);
 * - `failed` for its place (a create): re-placed (salvageCreate), keeping its place in the queue;
 * - `success`: the op waits for its event (`ackSeq`) — it leaves the queue when the event arrives,
 *   so an op committed before ours but delivered after our result is never applied twice — or
 *   leaves at once if the stream is already past it;
 * - `conflict`: the op leaves with an item for the panel (stale keystroke batches right behind
 *   it join the item), except a delete of a block already deleted (both wanted it gone);
 * - any other `failed`: the op leaves, reported.
 *
 * Ops that leave are dropped with `withoutRejected`, so later text ops keep their place.
 */
export function handleResults(
  batch: readonly PendingOp[],
  results: readonly OpResult[],
  ctx: ResultsContext,
): ResultsOutcome {
  let queue = [...ctx.pending];
  const replace = (from: PendingOp, to: PendingOp) => {
    queue = queue.map((q) => (q === from ? to : q));
  };
  const reject = (p: PendingOp) => {
    queue = withoutRejected(queue, p, ctx.confirmed, ctx.canvasId);
  };
  const out: ResultsOutcome = { pending: queue, conflicts: [], notices: [], retry: false, acked: false };
  for (const p of batch) {
    const r = results.find((x) => x.client_op_id === p.op.client_op_id && x.block_id === p.op.block_id);
    if (!r || (r.status === "failed" && RETRY_CODES.has(r.error?.code ?? ""))) {
      out.retry = true;
      continue;
    }
    if (r.status === "failed") {
      const salvaged = salvageCreate(p, r, ctx.view, ctx.uuid);
      if (salvaged) {
        replace(p, salvaged);
        continue;
      }
    }
    if (r.status === "success") {
      if (r.server_seq === null || r.server_seq <= ctx.serverSeq) queue = queue.filter((q) => q !== p);
      else {
        replace(p, { ...p, ackSeq: r.server_seq });
        out.acked = true;
      }
      continue;
    }
    // Deleting a block someone else deleted first is no conflict for the user: both wanted it gone.
    const moot = r.status === "conflict" && r.conflict?.reason === "deleted" && p.op.action === "delete";
    if (r.status === "conflict" && !moot) {
      // Keystroke batches queued behind it, stale under the same replace, would conflict one
      // by one: they join this item (its `mine` has them all) and leave the queue with it.
      const followers = staleFollowers(queue, p);
      // The view still has the refused ops applied: that is "mine" as the user saw it.
      const view =
        viewOf(ctx.confirmed, queue, p.op.block_id, ctx.canvasId) ?? ctx.lastSeen.get(p.op.block_id);
      const item = conflictItem({ newId: ctx.uuid, result: r, p, followers, view });
      if (item) out.conflicts.push(item);
      for (const q of [...followers].reverse()) reject(q);
    }
    reject(p);
    out.notices.push(
      r.status === "conflict"
        ? { kind: "conflict", result: r, op: p.op }
        : { kind: "error", error: r.error ?? r, op: p.op },
    );
  }
  out.pending = queue;
  return out;
}
