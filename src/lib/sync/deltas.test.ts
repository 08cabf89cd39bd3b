import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { SyncEngine } from "./engine";
// The fake server and transports are these tests' own in-process simulation of the server.
import { FakeSyncServer, FakeTransport } from "./fakeServer";
import { createMemoryPendingStore } from "./pendingStore";

let n = 0;
const uuid = () => `00000000-0000-4000-9000-${String(++n).padStart(12, "0")}`;

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function engineOn(server: FakeSyncServer) {
  const ws = new FakeTransport(server, "websocket");
  const rest = new FakeTransport(server, "rest");
  const engine = new SyncEngine({
    pacing: false,
    canvasId: "c",
    store: createMemoryPendingStore(),
    ws,
    rest,
    randomUUID: uuid,
  });
  return { ws, rest, engine };
}

describe("sync engine: delta events (RT-9)", () => {
  it("RT-9: text, field, move and delete deltas keep the confirmed state equal to the server's", async () => {
    const server = new FakeSyncServer();
    const a = uuid();
    const b = uuid();
    server.mutate([
      { client_op_id: uuid(), action: "create", block_id: a, type: "text", content: "hello" },
      { client_op_id: uuid(), action: "create", block_id: b, type: "text", content: "b" },
    ]);
    const { engine } = engineOn(server);
    await engine.start();
    await vi.advanceTimersByTimeAsync(10);
    server.mutate([
      { client_op_id: uuid(), action: "update", block_id: a, base_version: 1, text_op: [5, " world"] },
      {
        client_op_id: uuid(),
        action: "update",
        block_id: b,
        base_version: 1,
        props: { checked: true },
        type: "todo",
      },
      {
        client_op_id: uuid(),
        action: "update",
        block_id: a,
        base_version: 2,
        position: { after: b, before: undefined },
      },
    ]);
    await vi.advanceTimersByTimeAsync(10);
    expect(engine.getSnapshot().blocks).toEqual(server.liveBlocks());
    server.mutate([{ client_op_id: uuid(), action: "delete", block_id: b, base_version: 2 }]);
    await vi.advanceTimersByTimeAsync(10);
    expect(engine.getSnapshot().blocks).toEqual(server.liveBlocks());
    engine.stop();
  });

  it("RT-9: a delta that was not made against the version the client holds reloads the canvas instead of showing wrong text", async () => {
    const server = new FakeSyncServer();
    const id = uuid();
    server.mutate([{ client_op_id: uuid(), action: "create", block_id: id, type: "text", content: "abc" }]);
    const { rest, engine } = engineOn(server);
    await engine.start();
    await vi.advanceTimersByTimeAsync(10);
    const snapshots = rest.snapshots.length;
    // Failure injection: the server's row moves on without an event (a version the client never saw).
    const row = server.rows.get(id)!;
    row.block = { ...row.block, content: "XYZabc", version: 2 };
    row.history.push({ version: 2, text_op: ["XYZ"], content_set: false, fields: ["content"] });
    const shown: string[] = [];
    engine.subscribe(() => shown.push(engine.getSnapshot().byId.get(id)?.content ?? ""));
    server.mutate([
      { client_op_id: uuid(), action: "update", block_id: id, base_version: 2, text_op: [1, "!"] },
    ]);
    await vi.advanceTimersByTimeAsync(50);
    expect(rest.snapshots.length).toBeGreaterThan(snapshots);
    expect(engine.getSnapshot().byId.get(id)).toEqual(server.rows.get(id)!.block);
    // Never "a!bc" (the delta applied to the wrong version) nor any text the server did not have.
    expect(shown.filter((t) => t !== "abc" && t !== "X!YZabc")).toEqual([]);
    engine.stop();
  });
});
