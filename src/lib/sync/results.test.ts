import { describe, expect, it } from "vitest";
import type { PendingOp } from "./pendingStore";
import { handleResults, type ResultsContext } from "./results";
import type { BlockJson, Op, OpResult } from "./types";

const block = (id: string, y: string, content = "", version = 1): BlockJson => ({
  block_id: id,
  canvas_id: "c",
  parent_id: null,
  type: "text",
  content,
  props: {},
  y_order: y,
  version,
  created_at: "",
  created_by: null,
  updated_at: "",
  updated_by: null,
});

/** A pending op; `sent` freezes its wire payload as pump() does. */
function pending(
  op: Partial<Op> & { client_op_id: string; block_id: string },
  extra: Partial<PendingOp> = {},
  sent = true,
): PendingOp {
  const full = { action: "update", ...op } as Op;
  return { op: full, ...(sent ? { wire: structuredClone(full) } : {}), ...extra };
}

const result = (p: PendingOp, r: Partial<OpResult>): OpResult => ({
  client_op_id: p.op.client_op_id,
  block_id: p.op.block_id,
  status: "success",
  server_seq: null,
  version: null,
  block: null,
  ...r,
});

function context(
  pendingOps: PendingOp[],
  confirmed: BlockJson[],
  extra: Partial<ResultsContext> = {},
): ResultsContext {
  let n = 0;
  return {
    pending: pendingOps,
    confirmed: new Map(confirmed.map((b) => [b.block_id, b])),
    serverSeq: 4,
    canvasId: "c",
    view: confirmed,
    lastSeen: new Map(),
    uuid: () => `new-${++n}`,
    ...extra,
  };
}

describe("handleResults: what a mutate answer does to the queue (UI-3)", () => {
  it("UI-3: a success waits for its event; one the stream already passed leaves at once; nothing passed in changes", () => {
    const a = pending({ client_op_id: "op-a", block_id: "a", content: "x" });
    const b = pending({ client_op_id: "op-b", block_id: "b", content: "y" });
    const later = pending({ client_op_id: "op-c", block_id: "a", text_op: [1, "!"] }, {}, false);
    const ctx = context([a, b, later], [block("a", "a0"), block("b", "b0")]);
    const frozen = structuredClone(ctx.pending);
    const out = handleResults([a, b], [result(a, { server_seq: 5 }), result(b, { server_seq: 3 })], ctx);
    expect(out.pending.map((p) => [p.op.client_op_id, p.ackSeq])).toEqual([
      ["op-a", 5],
      ["op-c", undefined],
    ]);
    expect(out).toMatchObject({ acked: true, retry: false, conflicts: [], notices: [] });
    expect(ctx.pending).toEqual(frozen);
    expect(a.ackSeq).toBeUndefined();
  });

  it("MUT-3: no result, or a failure worth a retry (rate_limited, internal, timeout): the op stays exactly as sent", () => {
    const ops = ["rate_limited", "internal", "timeout", "missing"].map((code, i) =>
      pending({ client_op_id: `op-${i}`, block_id: `b${i}`, content: code }),
    );
    const results = ops.slice(0, 3).map((p, i) =>
      result(p, {
        status: "failed",
        error: { code: ["rate_limited", "internal", "timeout"][i] as string, message: "" },
      }),
    );
    const out = handleResults(ops, results, context(ops, []));
    expect(out.retry).toBe(true);
    expect(out.pending).toEqual(ops);
    expect(out.pending.map((p) => p.wire)).toEqual(ops.map((p) => p.op));
    expect(out.notices).toEqual([]);
  });

  it("UI-3: a create refused for its place is re-placed under a new client_op_id, keeping its block_id and its place in the queue, at most 3 times", () => {
    const view = [block("a", "a0"), block("n", "a5"), block("c", "c0")];
    const create = pending({
      client_op_id: "op-n",
      block_id: "n",
      action: "create",
      type: "text",
      position: { after: "gone", before: undefined },
    });
    const next = pending({ client_op_id: "op-x", block_id: "x", content: "later" }, {}, false);
    const refused = result(create, { status: "failed", error: { code: "invalid_position", message: "" } });
    const out = handleResults(
      [create],
      [refused],
      context([create, next], [block("a", "a0"), block("c", "c0")], { view }),
    );
    const moved = out.pending[0] as PendingOp;
    expect(out.pending[1]).toBe(next);
    expect(moved.op).toMatchObject({ block_id: "n", client_op_id: "new-1", position: { after: "a" } });
    expect(moved.wire).toBeUndefined();
    expect(moved).toMatchObject({ salvaged: 1, avoid: ["gone"] });
    expect(out.notices).toEqual([]);

    // A parent deleted meanwhile (invalid_op): it becomes a root block.
    const child = pending({
      client_op_id: "op-k",
      block_id: "k",
      action: "create",
      type: "text",
      parent_id: "p",
    });
    const noParent = result(child, { status: "failed", error: { code: "invalid_op", message: "" } });
    const root = handleResults([child], [noParent], context([child], [], { view: [] })).pending[0];
    expect(root?.op).toMatchObject({ parent_id: null, client_op_id: "new-1" });

    // The fourth refusal fails like any op.
    const tired = { ...create, salvaged: 3 };
    const failed = handleResults([tired], [result(tired, refused)], context([tired], [], { view }));
    expect(failed.pending).toEqual([]);
    expect(failed.notices).toEqual([{ kind: "error", error: refused.error, op: tired.op }]);
  });

  it("UI-4: a conflict leaves the queue with a panel item whose mine has the stale keystrokes behind it; later text ops keep their place", () => {
    const confirmed = [block("t", "t0", "abc"), block("u", "u0", "abc")];
    const typed = pending({ client_op_id: "op-1", block_id: "t", base_version: 1, text_op: [3, "d"] });
    const behind = pending(
      { client_op_id: "op-2", block_id: "t", text_op: [4, "e"] },
      { stale: true },
      false,
    );
    // On "u": an op the server refuses (failed), and text typed after it (on "Xabc", at the end).
    const refusedX = pending({ client_op_id: "op-3", block_id: "u", text_op: ["X"] });
    const after = pending({ client_op_id: "op-4", block_id: "u", text_op: [4, "!"] }, {}, false);
    const ctx = context([typed, behind, refusedX, after], confirmed);
    const conflict = result(typed, {
      status: "conflict",
      conflict: {
        reason: "stale_fields",
        fields: [{ field: "content", base: "abc", theirs: "xyz", mine: [3, "d"] }],
      },
    });
    const failed = result(refusedX, { status: "failed", error: { code: "invalid_op", message: "bad" } });
    const out = handleResults([typed, refusedX], [conflict, failed], ctx);
    expect(out.conflicts).toHaveLength(1);
    expect(out.conflicts[0]).toMatchObject({
      id: "new-1",
      blockId: "t",
      reason: "stale_fields",
      fields: [{ field: "content", base: "abc", theirs: "xyz", mine: "abcde" }],
      op: typed.wire,
      // The block as the user saw it: a stale keystroke batch is not shown (typed on replaced text).
      block: { content: "abcd" },
    });
    // Both keystroke batches left with the item; the op typed after the refused one moved back by one.
    expect(out.pending.map((p) => [p.op.client_op_id, p.op.text_op])).toEqual([["op-4", [3, "!"]]]);
    expect(after.op.text_op).toEqual([4, "!"]);
    expect(out.notices).toEqual([
      { kind: "conflict", result: conflict, op: typed.op },
      { kind: "error", error: failed.error, op: refusedX.op },
    ]);
    expect(out.retry).toBe(false);
  });

  it("MUT-10: the same change made by both opens no item; deleting a block deleted meanwhile is no conflict for the user", () => {
    const same = pending({ client_op_id: "op-1", block_id: "a", base_version: 1, type: "todo" });
    const gone = pending({ client_op_id: "op-2", block_id: "b", action: "delete", base_version: 1 });
    const ctx = context([same, gone], [block("a", "a0"), block("b", "b0")]);
    const out = handleResults(
      [same, gone],
      [
        result(same, {
          status: "conflict",
          conflict: {
            reason: "stale_fields",
            fields: [{ field: "type", base: "text", theirs: "todo", mine: "todo" }],
          },
        }),
        result(gone, { status: "conflict", conflict: { reason: "deleted", fields: [] } }),
      ],
      ctx,
    );
    expect(out.conflicts).toEqual([]);
    expect(out.pending).toEqual([]);
    expect(out.notices.map((n) => n.kind)).toEqual(["conflict", "conflict"]);
  });
});
