import type { PendingOp } from "./pendingStore";
import type { BlockJson, OpResult } from "./types";

/** How often a refused create is re-placed before it fails for good. */
export const MAX_SALVAGES = 3;

/**
 * A create refused for where it was put (its parent, `after` or `before` was deleted by someone
 * meanwhile) is the user's new block: rather than lose it, it is re-placed — as a root block if
 * the parent was refused (invalid_op), else after the nearest block before it in the view (or
 * before the nearest after it) avoiding every id refused so far — keeping its place in the queue
 * and its block_id (a failed create writes no row), with a new client_op_id. At most
 * MAX_SALVAGES times; then (null) it fails like any op.
 */
export function salvageCreate(
  p: PendingOp,
  r: OpResult,
  view: readonly BlockJson[],
  clientOpId: () => string,
): PendingOp | null {
  const code = r.error?.code;
  const { op } = p;
  if (op.action !== "create" || (p.salvaged ?? 0) >= MAX_SALVAGES) return null;
  if (code !== "invalid_position" && code !== "invalid_op") return null;
  if (!op.position && !op.parent_id) return null;
  const refused = code === "invalid_op" ? [op.parent_id] : [op.position?.after, op.position?.before];
  const avoid = new Set([...(p.avoid ?? []), ...refused.filter((x): x is string => typeof x === "string")]);
  const i = view.findIndex((b) => b.block_id === op.block_id);
  const ok = (b: BlockJson) => !avoid.has(b.block_id) && b.block_id !== op.block_id;
  const prev = i > 0 ? view.slice(0, i).findLast(ok) : undefined;
  const next = i >= 0 ? view.slice(i + 1).find(ok) : undefined;
  const { position: _old, ...rest } = op;
  const { wire: _sent, ...unsent } = p;
  return {
    ...unsent,
    op: {
      ...rest,
      client_op_id: clientOpId(),
      ...(code === "invalid_op" ? { parent_id: null } : {}),
      ...(prev
        ? { position: { after: prev.block_id, before: undefined } }
        : next
          ? { position: { after: undefined, before: next.block_id } }
          : {}),
    },
    salvaged: (p.salvaged ?? 0) + 1,
    avoid: [...avoid],
  };
}
