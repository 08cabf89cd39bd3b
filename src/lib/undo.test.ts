import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { SyncEngine } from "./sync";
// The fake server and transports are the tests' own in-process simulation of the server.
import { FakeSyncServer, FakeTransport } from "./sync/fakeServer";
import { createMemoryPendingStore } from "./sync/pendingStore";
import type { Op } from "./sync/types";
import { diffOp, UndoManager } from "./undo";

let n = 0;
const uuid = () => `00000000-0000-4000-9000-${String(++n).padStart(12, "0")}`;

async function settle(ms = 100): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
}

async function setup(groupMs = 1000) {
  const server = new FakeSyncServer();
  const ws = new FakeTransport(server, "websocket");
  const rest = new FakeTransport(server, "rest");
  /** Failed ops and other engine errors (there should be none). */
  const errors: unknown[] = [];
  const e = new SyncEngine({
    pacing: false,
    canvasId: "c",
    store: createMemoryPendingStore(),
    ws,
    rest,
    randomUUID: uuid,
    now: () => Date.now(),
    batchWindowMs: 20,
    onError: (error) => errors.push(error),
  });
  await e.start();
  await settle(0);
  const u = new UndoManager(e, { groupMs, now: () => Date.now() });
  /** Someone else's op, straight to the server (the engine hears it as an event). */
  const other = (op: Omit<Op, "client_op_id">) => server.mutate([{ client_op_id: uuid(), ...op } as Op]);
  const content = (id: string) => e.getSnapshot().byId.get(id)?.content;
  const order = () => e.getSnapshot().blocks.map((b) => b.content);
  /** The view has converged with the server. */
  const converged = () => {
    expect(e.getSnapshot().pendingCount).toBe(0);
    expect(e.getSnapshot().blocks).toEqual(server.liveBlocks());
  };
  return { server, ws, e, u, other, content, order, converged, errors };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("undo / redo (UI-5)", () => {
  it("UI-5 undo of a create deletes the block; redo re-creates it under a new id", async () => {
    const { e, u, server, order, converged } = await setup();
    expect(u.canUndo()).toBe(false);
    const id = e.create({ type: "todo", content: "task", props: { checked: true } });
    await settle();
    expect(u.canUndo()).toBe(true);
    expect(u.undo()).toBe(true);
    expect(order()).toEqual([]);
    await settle();
    expect(server.rows.get(id)?.deleted).toBe(true);
    expect(u.canRedo()).toBe(true);
    expect(u.redo()).toBe(true);
    await settle();
    const [again] = e.getSnapshot().blocks;
    expect(again).toMatchObject({ type: "todo", content: "task", props: { checked: true } });
    expect(again?.block_id).not.toBe(id);
    // The chain follows the new id: undo deletes the re-created block.
    expect(u.undo()).toBe(true);
    await settle();
    expect(order()).toEqual([]);
    expect(u.undo()).toBe(false);
    converged();
  });

  it("UI-5 undo of a delete re-creates the block with its children, in place; redo deletes it again", async () => {
    const { e, u, order, converged } = await setup();
    const a = e.create({ type: "text", content: "A" });
    const b = e.create({ type: "heading", content: "B", props: { level: 2 } });
    e.create({ type: "todo", content: "B.1", parent_id: b });
    e.create({ type: "text", content: "C" });
    await settle();
    e.delete(b);
    expect(order()).toEqual(["A", "C"]);
    await settle();
    expect(order()).toEqual(["A", "C"]);
    u.undo();
    expect(order()).toEqual(["A", "B", "B.1", "C"]);
    await settle();
    converged();
    const blocks = e.getSnapshot().blocks;
    const newB = blocks[1];
    expect(newB).toMatchObject({ type: "heading", props: { level: 2 } });
    expect(newB?.block_id).not.toBe(b);
    expect(blocks[2]?.parent_id).toBe(newB?.block_id);
    u.redo();
    await settle();
    expect(order()).toEqual(["A", "C"]);
    u.undo();
    await settle();
    expect(order()).toEqual(["A", "B", "B.1", "C"]);
    // Older steps still resolve: undoing the creates removes the (re-created) blocks.
    while (u.undo());
    await settle();
    expect(order()).toEqual([]);
    converged();
    expect(e.getSnapshot().byId.has(a)).toBe(false);
  });

  it("UI-5 undo of an update restores type, props (null for added keys) and parent", async () => {
    const { e, u, server, converged } = await setup();
    const p = e.create({ type: "text", content: "parent" });
    const id = e.create({ type: "text", content: "x", props: { keep: 1, color: "red" } });
    await settle();
    e.update(id, { type: "todo", props: { color: "blue", checked: true } });
    e.update(id, { parent_id: p });
    await settle();
    u.undo();
    expect(e.getSnapshot().byId.get(id)?.parent_id).toBeNull();
    u.undo();
    await settle();
    expect(server.rows.get(id)?.block).toMatchObject({
      type: "text",
      props: { keep: 1, color: "red" },
      parent_id: null,
    });
    u.redo();
    u.redo();
    await settle();
    expect(server.rows.get(id)?.block).toMatchObject({
      type: "todo",
      props: { keep: 1, color: "blue", checked: true },
      parent_id: p,
    });
    converged();
  });

  it("UI-5 undo of a move puts the block back between its previous neighbours", async () => {
    const { e, u, order, converged } = await setup();
    const a = e.create({ type: "text", content: "A" });
    e.create({ type: "text", content: "B" });
    const c = e.create({ type: "text", content: "C" });
    await settle();
    e.move(a, { after: c });
    await settle();
    expect(order()).toEqual(["B", "C", "A"]);
    u.undo();
    expect(order()).toEqual(["A", "B", "C"]);
    await settle();
    u.redo();
    await settle();
    expect(order()).toEqual(["B", "C", "A"]);
    converged();
  });

  it("UI-5 keystrokes on one block within groupMs are one undo step; a pause starts another", async () => {
    const { e, u, content, converged } = await setup(1000);
    const id = e.create({ type: "text", content: "" });
    await settle();
    e.editText(id, ["h"]);
    await settle(200);
    e.editText(id, [1, "i"]);
    await settle(200);
    e.editText(id, [2, "!"]);
    await settle(1500);
    e.editText(id, [3, " yo"]);
    await settle();
    expect(content(id)).toBe("hi! yo");
    u.undo();
    expect(content(id)).toBe("hi!");
    u.undo();
    expect(content(id)).toBe("");
    await settle();
    u.redo();
    expect(content(id)).toBe("hi!");
    u.redo();
    expect(content(id)).toBe("hi! yo");
    await settle();
    converged();
  });

  it("UI-5 undo of a text edit after a remote edit keeps theirs", async () => {
    const { e, u, other, content, server, converged } = await setup();
    const id = e.create({ type: "text", content: "hello world" });
    await settle();
    e.editText(id, [5, ","]); // "hello, world"
    await settle(1500);
    e.editText(id, [12, "!"]); // "hello, world!"
    await settle();
    // Others type at both ends and in the middle after our edits.
    const v = () => server.rows.get(id)?.block.version ?? 0;
    other({ action: "update", block_id: id, base_version: v(), text_op: ["Oh, "] });
    other({ action: "update", block_id: id, base_version: v(), text_op: [9, "!!"] });
    other({ action: "update", block_id: id, base_version: v(), text_op: [19, " :)"] });
    await settle();
    expect(content(id)).toBe("Oh, hello!!, world! :)");
    u.undo();
    expect(content(id)).toBe("Oh, hello!!, world :)");
    u.undo();
    expect(content(id)).toBe("Oh, hello!! world :)");
    await settle();
    expect(server.rows.get(id)?.block.content).toBe("Oh, hello!! world :)");
    // Redo after yet another remote edit still lands in the right place.
    other({ action: "update", block_id: id, base_version: v(), text_op: ["> "] });
    await settle();
    u.redo();
    u.redo();
    expect(content(id)).toBe("> Oh, hello!!, world! :)");
    await settle();
    converged();
  });

  it("UI-5 undo of a text edit made while a remote edit is in flight keeps theirs (view-relative transform)", async () => {
    const { e, u, ws, other, content, converged } = await setup();
    const id = e.create({ type: "text", content: "abc" });
    await settle();
    ws.manual = true;
    e.editText(id, [3, "X"]); // pending, not confirmed
    // Against "abc", at the same place: for the view ("abcX") it lands after our X.
    other({ action: "update", block_id: id, base_version: 1, text_op: [3, "Y"] });
    ws.deliverOne();
    expect(content(id)).toBe("abcXY");
    ws.manual = false;
    await settle();
    for (const r of ws.requests) r();
    await settle();
    u.undo();
    expect(content(id)).toBe("abcY");
    await settle();
    converged();
  });

  it("UI-5 undo of a content set is a text op that keeps others' later edits", async () => {
    const { e, u, other, content, server, converged } = await setup();
    const id = e.create({ type: "text", content: "draft one" });
    await settle();
    e.update(id, { content: "final one" });
    await settle();
    other({
      action: "update",
      block_id: id,
      base_version: server.rows.get(id)?.block.version,
      text_op: [9, "!"],
    });
    await settle();
    u.undo();
    expect(content(id)).toBe("draft one!");
    await settle();
    converged();
    expect(diffOp("abc", "abc")).toBeNull();
    expect(diffOp("a😀c", "a😀xc")).toEqual([2, "x"]);
  });

  it("UI-5 undo does not clobber a field someone else changed since", async () => {
    const { e, u, other, server, converged } = await setup();
    const id = e.create({ type: "text", content: "x", props: { a: 1, b: 1 } });
    await settle();
    e.update(id, { type: "todo", props: { a: 2, b: 2 } });
    await settle();
    other({
      action: "update",
      block_id: id,
      base_version: server.rows.get(id)?.block.version,
      type: "heading",
      props: { b: 3 },
    });
    await settle();
    u.undo();
    await settle();
    // Only what still holds our value goes back.
    expect(server.rows.get(id)?.block).toMatchObject({ type: "heading", props: { a: 1, b: 3 } });
    converged();
  });

  it("UI-5 undo never restores a parent that would make a cycle", async () => {
    const { e, u, other, server, converged, errors } = await setup();
    const b = e.create({ type: "text", content: "B" });
    const a = e.create({ type: "text", content: "A", parent_id: b });
    await settle(1500);
    e.update(a, { parent_id: null }); // outdent A
    await settle();
    // Someone puts B under A meanwhile: A under B again would be a cycle.
    other({ action: "update", block_id: b, base_version: server.rows.get(b)?.block.version, parent_id: a });
    await settle();
    u.undo(); // the outdent cannot go back: the step is skipped, the next (create A) is undone
    await settle();
    expect(errors).toEqual([]);
    expect(e.getSnapshot().byId.has(a)).toBe(false);
    converged();
  });

  it("UI-5 a new own op clears redo; undo ops are not recorded as user ops but land on the redo stack", async () => {
    const { e, u, content } = await setup();
    const id = e.create({ type: "text", content: "" });
    await settle();
    e.editText(id, ["a"]);
    await settle(1500);
    const changes = vi.fn();
    u.subscribe(changes);
    u.undo();
    expect(changes).toHaveBeenCalled();
    expect(u.canRedo()).toBe(true);
    // Only the create is left to undo: the undo's own text op was not recorded.
    expect(u.undo()).toBe(true);
    expect(u.canUndo()).toBe(false);
    expect(u.redo()).toBe(true);
    expect(u.canRedo()).toBe(true);
    const again = e.getSnapshot().blocks[0]?.block_id ?? "";
    e.editText(again, ["b"]);
    expect(u.canRedo()).toBe(false);
    expect(u.redo()).toBe(false);
    expect(content(again)).toBe("b");
    u.stop();
    e.editText(again, [1, "c"]);
    expect(u.undo()).toBe(false); // stopped: the manager is disposed
    expect(u.canUndo()).toBe(false);
    expect(content(again)).toBe("bc");
  });

  it("UI-5 a remote content replace drops that block's text steps; other steps stay", async () => {
    const { e, u, other, content, server } = await setup();
    const id = e.create({ type: "text", content: "abc" });
    await settle();
    e.editText(id, [3, "d"]);
    await settle();
    other({
      action: "update",
      block_id: id,
      base_version: server.rows.get(id)?.block.version,
      content: "replaced",
    });
    await settle();
    u.undo(); // the text step is gone: this undoes the create
    expect(content(id)).toBeUndefined();
    expect(u.canUndo()).toBe(false);
  });

  it("UI-5 undo and redo go through the engine queue (sent, confirmed, survive as pending)", async () => {
    const { e, u, ws, server } = await setup();
    const id = e.create({ type: "text", content: "abc" });
    await settle();
    e.update(id, { type: "quote" });
    await settle();
    ws.down = true;
    ws.drop();
    u.undo();
    expect(e.getSnapshot().pendingCount).toBe(1);
    expect(server.rows.get(id)?.block.type).toBe("quote");
    ws.down = false;
    await settle(5000);
    expect(e.getSnapshot().pendingCount).toBe(0);
    expect(server.rows.get(id)?.block.type).toBe("text");
  });

  it("UI-5 transact records a gesture of several ops (Enter splitting a block) as one step", async () => {
    const { e, u, order, converged } = await setup();
    const id = e.create({ type: "text", content: "helloworld" });
    await settle(1500);
    u.transact(() => {
      e.editText(id, [5, { d: 5 }]);
      u.transact(() => e.create({ type: "text", content: "world", position: { after: id } }));
    });
    expect(order()).toEqual(["hello", "world"]);
    await settle();
    u.undo();
    expect(order()).toEqual(["helloworld"]);
    await settle();
    u.redo();
    expect(order()).toEqual(["hello", "world"]);
    await settle();
    u.undo();
    await settle();
    expect(order()).toEqual(["helloworld"]);
    expect(u.undo()).toBe(true); // the create of the first block
    expect(u.canUndo()).toBe(false);
    await settle();
    converged();
  });

  it("UI-5: undoing a split puts the caret back where Enter was pressed; redo puts it in the new block", async () => {
    const { e, u, order, converged } = await setup();
    const a = e.create({ type: "text", content: "Hello world" });
    await settle(1500);
    let b = "";
    u.transact(
      () => {
        e.editText(a, [6, { d: 5 }]);
        b = e.create({ type: "text", content: "world", position: { after: a } });
      },
      { blockId: a, start: 6, end: 6 },
    );
    await settle();
    expect(u.undo({ blockId: b, start: 0, end: 0 })).toBe(true);
    expect(order()).toEqual(["Hello world"]);
    expect(u.caret()).toEqual({ blockId: a, start: 6, end: 6 });
    await settle();
    expect(u.redo({ blockId: a, start: 6, end: 6 })).toBe(true);
    expect(order()).toEqual(["Hello ", "world"]);
    // The new block was re-created under a new id: the caret follows it.
    const again = e.getSnapshot().blocks[1]?.block_id as string;
    expect(again).not.toBe(b);
    expect(u.caret()).toEqual({ blockId: again, start: 0, end: 0 });
    await settle();
    converged();
  });

  it("UI-5: a merge (Backspace at the start of a block) is one step; undo restores both blocks and the caret", async () => {
    const { e, u, order, converged } = await setup();
    const a = e.create({ type: "text", content: "Hello " });
    const b = e.create({ type: "text", content: "world", position: { after: a } });
    await settle(1500);
    // What the editor does on Backspace at the start of b.
    u.transact(
      () => {
        e.editText(a, [6, "world"]);
        e.delete(b);
      },
      { blockId: b, start: 0, end: 0 },
    );
    expect(order()).toEqual(["Hello world"]);
    await settle();
    expect(u.undo({ blockId: a, start: 6, end: 6 })).toBe(true);
    // One step: never "world" in both blocks.
    expect(order()).toEqual(["Hello ", "world"]);
    const restored = e.getSnapshot().blocks[1]?.block_id as string;
    expect(u.caret()).toEqual({ blockId: restored, start: 0, end: 0 });
    await settle();
    expect(u.redo()).toBe(true);
    expect(order()).toEqual(["Hello world"]);
    expect(u.caret()).toEqual({ blockId: a, start: 6, end: 6 });
    await settle();
    converged();
  });

  it("UI-5: without a gesture caret, undo puts the caret at the text it changed back (UTF-16 offsets)", async () => {
    const { e, u, content } = await setup();
    const a = e.create({ type: "text", content: "😀 ab" });
    await settle(1500);
    e.editText(a, [4, "X"]); // after "😀 ab": code points, not UTF-16 units
    await settle(1500);
    e.editText(a, [1, { d: 1 }]); // the space after the emoji
    await settle(1500);
    expect(u.undo()).toBe(true);
    expect(content(a)).toBe("😀 abX");
    expect(u.caret()).toEqual({ blockId: a, start: 3, end: 3 });
    expect(u.undo()).toBe(true);
    expect(content(a)).toBe("😀 ab");
    expect(u.caret()).toEqual({ blockId: a, start: 5, end: 5 });
    // A step about other fields says nothing about the caret.
    e.update(a, { type: "heading" });
    expect(u.undo()).toBe(true);
    expect(u.caret()).toBeNull();
  });

  it("UI-5 undoing every own text edit removes exactly ours and keeps all of theirs (random interleavings)", async () => {
    const at = fc.double({ min: 0, max: 1, noNaN: true });
    const cmd = fc.oneof(
      fc.record({ k: fc.constantFrom("ins", "del", "theirs"), at, ch: fc.constantFrom("a", "b", "c") }),
      fc.record({
        k: fc.constantFrom("release", "deliver", "tick", "undo", "redo"),
        at: fc.constant(0),
        ch: fc.constant(""),
      }),
    );
    const initial = "0123456789";
    await fc.assert(
      fc.asyncProperty(fc.array(cmd, { minLength: 5, maxLength: 60 }), async (cmds) => {
        const server = new FakeSyncServer();
        const id = uuid();
        server.mutate([
          { client_op_id: uuid(), action: "create", block_id: id, type: "text", content: initial },
        ]);
        const ws = new FakeTransport(server, "websocket");
        ws.manual = true;
        const e = new SyncEngine({
          pacing: false,
          canvasId: "c",
          store: createMemoryPendingStore(),
          ws,
          rest: new FakeTransport(server, "rest"),
          randomUUID: uuid,
          now: () => Date.now(),
          batchWindowMs: 30,
        });
        await e.start();
        await settle(0);
        const u = new UndoManager(e, { groupMs: 50, now: () => Date.now() });
        const theirs: string[] = [];
        let next = 0;
        const drain = async () => {
          for (let i = 0; i < 200; i++) {
            let busy = false;
            while (ws.requests.length > 0) {
              ws.requests.shift()?.();
              busy = true;
            }
            await settle(0);
            while (ws.deliverOne()) {
              busy = true;
              await settle(0);
            }
            await settle(40);
            if (!busy && e.getSnapshot().pendingCount === 0 && ws.requests.length === 0) return;
          }
        };
        for (const { k, at, ch } of cmds) {
          const text = e.getSnapshot().byId.get(id)?.content ?? "";
          const pos = Math.min(text.length, Math.floor(at * (text.length + 1)));
          if (k === "ins") e.editText(id, pos > 0 ? [pos, ch] : [ch]);
          else if (k === "del" && pos < text.length) e.editText(id, pos > 0 ? [pos, { d: 1 }] : [{ d: 1 }]);
          else if (k === "theirs") {
            // Someone else inserts a capital letter against the server's current text.
            const row = server.rows.get(id)?.block;
            const letter = String.fromCharCode(65 + (next++ % 26));
            const len = row?.content.length ?? 0;
            const p = Math.min(len, Math.floor(at * (len + 1)));
            theirs.push(letter);
            server.mutate([
              {
                client_op_id: uuid(),
                action: "update",
                block_id: id,
                base_version: row?.version,
                text_op: p > 0 ? [p, letter] : [letter],
              },
            ]);
          } else if (k === "release") ws.requests.shift()?.();
          else if (k === "deliver") ws.deliverOne();
          else if (k === "tick") await settle(40);
          else if (k === "undo") u.undo();
          else if (k === "redo") u.redo();
          await settle(0);
        }
        await drain();
        while (u.undo()) await drain();
        await drain();
        const final = server.rows.get(id)?.block.content ?? "";
        expect(e.getSnapshot().byId.get(id)?.content).toBe(final);
        expect(final.replace(/[A-Z]/g, "")).toBe(initial);
        expect([...final.replace(/[^A-Z]/g, "")].sort()).toEqual([...theirs].sort());
        e.stop();
      }),
      { numRuns: 150 },
    );
  });

  it("UI-5 undoing every own structural op restores the document (random creates, deletes, moves, fields, text)", async () => {
    const kinds = [
      "create",
      "delete",
      "move",
      "type",
      "props",
      "indent",
      "outdent",
      "text",
      "undo",
      "redo",
    ] as const;
    const cmd = fc.record({
      k: fc.constantFrom(...kinds),
      a: fc.double({ min: 0, max: 0.999, noNaN: true }),
      b: fc.double({ min: 0, max: 0.999, noNaN: true }),
    });
    const types = ["text", "heading", "todo", "code", "quote"] as const;
    await fc.assert(
      fc.asyncProperty(fc.array(cmd, { minLength: 1, maxLength: 40 }), async (cmds) => {
        const errors: unknown[] = [];
        const server = new FakeSyncServer();
        const ws = new FakeTransport(server, "websocket");
        const e = new SyncEngine({
          pacing: false,
          canvasId: "c",
          store: createMemoryPendingStore(),
          ws,
          rest: new FakeTransport(server, "rest"),
          randomUUID: uuid,
          now: () => Date.now(),
          batchWindowMs: 10,
          onError: (err) => errors.push(err),
          onConflict: (r) => errors.push(r),
        });
        await e.start();
        await settle(0);
        for (const content of ["one", "two", "three"]) e.create({ type: "text", content });
        await settle(50);
        const u = new UndoManager(e, { groupMs: 0, now: () => Date.now() });
        /** Structure by position: parent as an index, so re-created ids compare equal. */
        const shape = () => {
          const blocks = e.getSnapshot().blocks;
          return blocks.map((x) => ({
            type: x.type,
            content: x.content,
            props: x.props,
            parent: x.parent_id === null ? -1 : blocks.findIndex((y) => y.block_id === x.parent_id),
          }));
        };
        const initial = shape();
        for (const { k, a, b } of cmds) {
          const blocks = e.getSnapshot().blocks;
          const pick = (f: number) => blocks[Math.floor(f * blocks.length)];
          const x = pick(a);
          const y = pick(b);
          if (k === "create")
            e.create({ type: "text", content: "new", ...(x ? { position: { after: x.block_id } } : {}) });
          else if (k === "undo") u.undo();
          else if (k === "redo") u.redo();
          else if (!x) continue;
          else if (k === "delete") e.delete(x.block_id);
          else if (k === "move" && y && y.block_id !== x.block_id) e.move(x.block_id, { after: y.block_id });
          else if (k === "type") e.update(x.block_id, { type: types[Math.floor(b * types.length)] });
          else if (k === "props")
            e.update(x.block_id, { props: { checked: b > 0.5, [`k${Math.floor(b * 3)}`]: a } });
          else if (k === "indent") {
            const i = blocks.indexOf(x);
            const prev = blocks[i - 1];
            // Not under its own descendant (the server refuses cycles).
            let up: string | null | undefined = prev?.block_id;
            while (up && up !== x.block_id) up = e.getSnapshot().byId.get(up)?.parent_id;
            if (prev && up !== x.block_id) e.update(x.block_id, { parent_id: prev.block_id });
          } else if (k === "outdent" && x.parent_id) e.update(x.block_id, { parent_id: null });
          else if (k === "text") e.editText(x.block_id, b > 0.5 ? [x.content.length, "+"] : ["-"]);
          await settle(20);
        }
        await settle(100);
        while (u.undo()) await settle(20);
        await settle(100);
        expect(errors).toEqual([]);
        expect(e.getSnapshot().pendingCount).toBe(0);
        expect(e.getSnapshot().blocks).toEqual(server.liveBlocks());
        expect(shape()).toEqual(initial);
        e.stop();
      }),
      { numRuns: 150 },
    );
  });

  it("UI-3 / UI-5 two clients editing structure and undoing under random interleavings converge", async () => {
    const kinds = [
      "create",
      "delete",
      "move",
      "type",
      "indent",
      "text",
      "undo",
      "redo",
      "release",
      "deliver",
    ] as const;
    const cmd = fc.record({
      c: fc.integer({ min: 0, max: 1 }),
      k: fc.constantFrom(...kinds),
      a: fc.double({ min: 0, max: 0.999, noNaN: true }),
      b: fc.double({ min: 0, max: 0.999, noNaN: true }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(cmd, { minLength: 5, maxLength: 50 }), async (cmds) => {
        const server = new FakeSyncServer();
        for (const content of ["one", "two", "three"])
          server.mutate([
            { client_op_id: uuid(), action: "create", block_id: uuid(), type: "text", content },
          ]);
        const clients = await Promise.all(
          [0, 1].map(async () => {
            const ws = new FakeTransport(server, "websocket");
            ws.manual = true;
            const e = new SyncEngine({
              pacing: false,
              canvasId: "c",
              store: createMemoryPendingStore(),
              ws,
              rest: new FakeTransport(server, "rest"),
              randomUUID: uuid,
              now: () => Date.now(),
              batchWindowMs: 10,
            });
            await e.start();
            return { ws, e, u: new UndoManager(e, { groupMs: 0, now: () => Date.now() }) };
          }),
        );
        await settle(0);
        for (const { c, k, a, b } of cmds) {
          const { ws, e, u } = clients[c] as (typeof clients)[number];
          const blocks = e.getSnapshot().blocks;
          const x = blocks[Math.floor(a * blocks.length)];
          const y = blocks[Math.floor(b * blocks.length)];
          if (k === "create")
            e.create({ type: "text", content: "n", ...(x ? { position: { after: x.block_id } } : {}) });
          else if (k === "undo") u.undo();
          else if (k === "redo") u.redo();
          else if (k === "release") ws.requests.shift()?.();
          else if (k === "deliver") ws.deliverOne();
          else if (!x) continue;
          else if (k === "delete") e.delete(x.block_id);
          else if (k === "move" && y && y.block_id !== x.block_id) e.move(x.block_id, { after: y.block_id });
          else if (k === "type") e.update(x.block_id, { type: b > 0.5 ? "todo" : "text" });
          else if (k === "indent") {
            const prev = blocks[blocks.indexOf(x) - 1];
            let up: string | null | undefined = prev?.block_id;
            while (up && up !== x.block_id) up = e.getSnapshot().byId.get(up)?.parent_id;
            if (prev && up !== x.block_id) e.update(x.block_id, { parent_id: prev.block_id });
          } else if (k === "text") e.editText(x.block_id, b > 0.5 ? [x.content.length, "+"] : ["-"]);
          await settle(0);
        }
        for (let i = 0; i < 200; i++) {
          let busy = false;
          for (const { ws } of clients) {
            while (ws.requests.length > 0) {
              ws.requests.shift()?.();
              busy = true;
            }
            await settle(0);
            while (ws.deliverOne()) {
              busy = true;
              await settle(0);
            }
          }
          await settle(50);
          if (!busy && clients.every(({ e }) => e.getSnapshot().pendingCount === 0)) break;
        }
        for (const { e } of clients) {
          expect(e.getSnapshot().pendingCount).toBe(0);
          expect(e.getSnapshot().blocks).toEqual(server.liveBlocks());
          e.stop();
        }
      }),
      { numRuns: 150 },
    );
  });
});
