import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { SyncEngine } from "./engine";
// The fake server and transports are these tests' own in-process simulation of the server.
import { FakeSyncServer, FakeTransport } from "./fakeServer";
import { createMemoryPendingStore } from "./pendingStore";
import type { ConflictField, Op, OpResult } from "./types";

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
