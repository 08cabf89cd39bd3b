import type { CreateInput } from "./options";
import type { PendingOp } from "./pendingStore";
import type { BlockJson, Op } from "./types";

/** A create as the user made it (a create without `position` appends at the end, MUT). */
export function createOp(input: CreateInput, blockId: string, clientOpId: string): Op {
  return {
    client_op_id: clientOpId,
    action: "create",
    block_id: blockId,
    type: input.type,
    content: input.content ?? "",
    props: input.props ?? {},
    parent_id: input.parent_id ?? null,
    ...(input.position ? { position: { after: input.position.after, before: input.position.before } } : {}),
  };
}

/**
 * MUT-9: an update or delete whose base is the version of the block this client had confirmed
 * when the user made the change (never an optimistic local count, which could name another
 * user's op), naming the previous op of this client on the block that the server has not
 * confirmed yet, so the server can tell this chain's own changes from everyone else's.
 */
export function baseOp(
  action: "update" | "delete",
  blockId: string,
  fields: Partial<Op>,
  confirmed: ReadonlyMap<string, BlockJson>,
  pending: readonly PendingOp[],
  clientOpId: string,
): Op {
  const base = confirmed.get(blockId)?.version;
  const prev = pending.findLast((p) => p.op.block_id === blockId && p.op.action !== "create");
  return {
    client_op_id: clientOpId,
    action,
    block_id: blockId,
    ...(base !== undefined ? { base_version: base } : {}),
    ...(prev ? { prev_client_op_id: prev.op.client_op_id } : {}),
    ...fields,
  } as Op;
}

/**
 * The payload an op is sent with, frozen from then on: a resend with the same client_op_id is
 * byte-identical (MUT-3). An op made while its block was our unconfirmed create takes the
 * create's confirmed version once there is one.
 */
export function wireOf(p: PendingOp, confirmed: ReadonlyMap<string, BlockJson>): Op {
  const op: Op = JSON.parse(JSON.stringify(p.op));
  if (op.action !== "create" && op.base_version === undefined) {
    const v = confirmed.get(op.block_id)?.version;
    if (v !== undefined) op.base_version = v;
  }
  return op;
}
