import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { recreateInput, resubmission, staleFollowers } from "./conflicts";
import { SyncEngine } from "./engine";
// The fake server and transports are these tests' own in-process simulation of the server.
import { FakeSyncServer, FakeTransport } from "./fakeServer";
import { createMemoryPendingStore } from "./pendingStore";
import type { BlockJson, ConflictField, ConflictItem, Op, OpResult } from "./types";

let n = 0;
const uuid = () => `00000000-0000-4000-a000-${String(++n).padStart(12, "0")}`;

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/**
 * A started engine whose socket answers every later mutation as a `stale_fields` conflict with
 * the given fields: a server that still reports identical concurrent changes (the client must
 * not rely on the server for MUT-10).
 */
async function engineAnsweredWith(fields: (op: Op) => ConflictField[]) {
  const server = new FakeSyncServer();
  const ws = new FakeTransport(server, "websocket");
  const rest = new FakeTransport(server, "rest");
  const reported: OpResult[] = [];
  const e = new SyncEngine({
    pacing: false,
    canvasId: "c",
    store: createMemoryPendingStore(),
    ws,
    rest,
    randomUUID: uuid,
    onConflict: (r) => reported.push(r),
  });
  await e.start();
  await vi.advanceTimersByTimeAsync(0);
  const id = e.create({ type: "todo", content: "Buy milk", props: { checked: false } });
  await vi.advanceTimersByTimeAsync(100);
  ws.mutate = async (ops) => ({
    results: ops.map((op) => ({
      client_op_id: op.client_op_id,
      block_id: op.block_id,
      status: "conflict",
      server_seq: null,
      version: 2,
      block: server.rows.get(op.block_id)?.block ?? null,
      conflict: { reason: "stale_fields", fields: fields(op) },
    })),
  });
  return { e, id, reported };
}

describe("sync engine: conflict items (UI-4, MUT-10)", () => {
  it("MUT-10: a conflict whose theirs equals mine in every field opens no panel item; one that differs does", async () => {
    const { e, id, reported } = await engineAnsweredWith((op) => [
      { field: "props", base: { checked: false }, theirs: { checked: true }, mine: { checked: true } },
      op.type === undefined
        ? { field: "content", base: "Buy milk", theirs: "Buy oat milk", mine: "Buy oat milk" }
        : { field: "type", base: "todo", theirs: "quote", mine: op.type },
    ]);
    e.update(id, { props: { checked: true }, content: "Buy oat milk" });
    await vi.advanceTimersByTimeAsync(100);
    expect(reported).toHaveLength(1); // the server did say conflict…
    expect(e.getSnapshot().conflicts).toEqual([]); // … but there is nothing for the user to decide
    expect(e.getSnapshot().pendingCount).toBe(0);
    // A real difference in one field still opens the panel, with every field.
    e.update(id, { props: { checked: true }, type: "heading" });
    await vi.advanceTimersByTimeAsync(100);
    expect(e.getSnapshot().conflicts.map((c) => c.fields.map((f) => f.field))).toEqual([["props", "type"]]);
    e.stop();
  });

  it("MUT-10: a props patch equal to theirs on the keys it sets is the same change; a delete never is", async () => {
    const { e, id } = await engineAnsweredWith((op) =>
      op.action === "delete"
        ? [{ field: "parent_id", base: "0f0e0d0c-0b0a-4909-8807-060504030201", theirs: null, mine: null }]
        : [
            {
              field: "props",
              base: { checked: false, color: "red" },
              theirs: { checked: true, due: "2026-12-24" },
              mine: { checked: true, color: null },
            },
          ],
    );
    e.update(id, { props: { checked: true, color: null } });
    await vi.advanceTimersByTimeAsync(100);
    expect(e.getSnapshot().conflicts).toEqual([]);
    // A delete's "mine" is null in every field: it must still ask, or the block would silently stay.
    e.delete(id);
    await vi.advanceTimersByTimeAsync(100);
    expect(e.getSnapshot().conflicts.map((c) => c.op.action)).toEqual(["delete"]);
    e.stop();
  });
});

describe("Keep mine, planned (UI-4: conflicts.ts)", () => {
  const block = (id: string, y: string, extra: Partial<BlockJson> = {}): BlockJson => ({
    block_id: id,
    canvas_id: "c",
    parent_id: null,
    type: "text",
    content: "",
    props: {},
    y_order: y,
    version: 2,
    created_at: "",
    created_by: null,
    updated_at: "",
    updated_by: null,
    ...extra,
  });
  const item = (op: Partial<Op>, extra: Partial<ConflictItem> = {}): ConflictItem => ({
    id: "i",
    blockId: "b",
    reason: "stale_fields",
    fields: [],
    op: { client_op_id: "o", action: "update", block_id: "b", ...op } as Op,
    result: {
      client_op_id: "o",
      block_id: "b",
      status: "conflict",
      server_seq: null,
      version: null,
      block: null,
    },
    ...extra,
  });

  it("UI-4: the conflicted fields go back as mine, the rest of the op rides along, a move is sent again", () => {
    const plan = resubmission(
      item(
        { type: "heading", props: { x: 1 }, position: { after: "a", before: undefined } },
        {
          fields: [
            { field: "type", base: "text", theirs: "quote", mine: "heading" },
            { field: "content", base: "ab", theirs: "xy", mine: "abc" },
          ],
        },
      ),
      block("b", "m"),
      undefined,
    );
    expect(plan).toEqual({
      kind: "update",
      fields: { type: "heading", props: { x: 1 }, content: "abc" },
      position: { after: "a", before: undefined },
    });
    // A text edit that did not conflict on content rides along as the text the user saw.
    expect(
      resubmission(
        item({ text_op: [1, "!"], type: "todo" }, { block: block("b", "m", { content: "a!" }) }),
        block("b", "m"),
        undefined,
      ),
    ).toEqual({ kind: "update", fields: { type: "todo", content: "a!" } });
  });

  it("UI-4: a block deleted under our edit is re-created from what we last saw, in its place; a delete of a deleted block does nothing", () => {
    const seen = block("b", "m", { content: "mine", parent_id: "gone" });
    expect(resubmission(item({ type: "todo" }, { reason: "deleted" }), undefined, seen)).toEqual({
      kind: "recreate",
      block: seen,
    });
    expect(resubmission(item({ action: "delete" }, { reason: "deleted" }), undefined, seen)).toEqual({
      kind: "none",
    });
    // Someone restored it meanwhile: nothing to re-create.
    expect(resubmission(item({ type: "todo" }, { reason: "deleted" }), block("b", "m"), seen)).toEqual({
      kind: "none",
    });
    expect(resubmission(item({ action: "delete" }), block("b", "m"), undefined)).toEqual({ kind: "delete" });

    const order = [block("a", "a"), block("z", "z")];
    const view = new Map(order.map((b) => [b.block_id, b]));
    expect(recreateInput(seen, view, order)).toEqual({
      type: "text",
      content: "mine",
      props: {},
      parent_id: null,
      position: { after: "a" },
    });
    expect(recreateInput(block("b", "0"), view, order).position).toEqual({ before: "a" });
  });

  it("UI-4: only the unsent stale keystroke batches right behind an op join its item", () => {
    const p = { op: { client_op_id: "1", action: "update", block_id: "b", text_op: ["x"] } as Op };
    const q = {
      op: { client_op_id: "2", action: "update", block_id: "b", text_op: [1, "y"] } as Op,
      stale: true,
    };
    const other = {
      op: { client_op_id: "3", action: "update", block_id: "c", text_op: ["z"] } as Op,
      stale: true,
    };
    const fresh = { op: { client_op_id: "4", action: "update", block_id: "b", text_op: [2, "w"] } as Op };
    const after = {
      op: { client_op_id: "5", action: "update", block_id: "b", text_op: [3, "v"] } as Op,
      stale: true,
    };
    expect(staleFollowers([p, q, other, fresh, after], p)).toEqual([q]);
    expect(staleFollowers([p, q], { op: { ...p.op, text_op: undefined } as Op })).toEqual([]);
  });
});
