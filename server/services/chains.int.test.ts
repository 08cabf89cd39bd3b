/**
 * MUT-9 (a client's chain of pending ops is judged against the version it had seen, not against
 * its own earlier ops) and MUT-10 (identical concurrent changes are no conflict), through the
 * mutation service on the real database.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { newId, seedCanvas, seedUser } from "../../tests/support/fixtures";
import { createTestDatabase, type TestDatabase } from "../../tests/support/testDb";
import type { Database } from "../db/sql";
import { MemoryBus } from "../ports/memoryBus";
import type { OpResult } from "../protocol/ops";
import { CanvasSync } from "./canvasSync";

let t: TestDatabase;
let db: Database;
let bus: MemoryBus;
let sync: CanvasSync;
let alice: string;
let bob: string;
let canvas: string;

beforeAll(async () => {
  t = await createTestDatabase();
  db = t.db;
  bus = new MemoryBus();
  sync = new CanvasSync({ db, bus, rpcRate: { points: 100_000, duration: 60 } });
  alice = await seedUser(db, "Alice");
  bob = await seedUser(db, "Bob");
});

afterAll(async () => {
  await sync?.close();
  await bus?.close();
  await t?.drop();
});

beforeEach(async () => {
  canvas = await seedCanvas(db, alice);
  await db.query("INSERT INTO canvas_members (canvas_id, user_id, role) VALUES ($1, $2, 'writer')", [
    canvas,
    bob,
  ]);
});

async function mutate(userId: string, ops: Record<string, unknown>[]): Promise<OpResult[]> {
  return (await sync.mutate({ canvasId: canvas, userId, ops })).results;
}

async function createBlock(extra: Record<string, unknown> = {}): Promise<string> {
  const blockId = newId();
  const [r] = await mutate(alice, [
    { client_op_id: newId(), action: "create", block_id: blockId, type: "text", content: "Hello", ...extra },
  ]);
  expect(r!.status).toBe("success");
  return blockId;
}

const update = (blockId: string, base: number, fields: Record<string, unknown>, prev?: string) => ({
  client_op_id: newId(),
  action: "update",
  block_id: blockId,
  base_version: base,
  ...(prev ? { prev_client_op_id: prev } : {}),
  ...fields,
});

describe("MUT-9: offline chains", () => {
  it("MUT-9: [text at base 1, type at base 1 after it] over a concurrent type change: the text merges, the type conflicts", async () => {
    const block = await createBlock();
    expect((await mutate(alice, [update(block, 1, { type: "quote" })]))[0]!.status).toBe("success");
    const typed = update(block, 1, { text_op: [5, "!"] });
    const retyped = update(block, 1, { type: "heading" }, typed.client_op_id);
    const [text, type] = await mutate(bob, [typed, retyped]);
    expect(text!.status).toBe("success");
    expect(text!.block!.content).toBe("Hello!");
    expect(type!.status).toBe("conflict");
    expect(type!.conflict).toEqual({
      reason: "stale_fields",
      fields: [{ field: "type", base: "text", theirs: "quote", mine: "heading" }],
    });
    const [row] = await db.query<{ type: string; content: string }>(
      "SELECT type, content FROM blocks WHERE block_id = $1",
      [block],
    );
    expect(row).toEqual({ type: "quote", content: "Hello!" });
  });

  it("MUT-9: the same chain sent in two requests (the second after the first's result) still conflicts", async () => {
    const block = await createBlock();
    await mutate(alice, [update(block, 1, { type: "quote" })]);
    const typed = update(block, 1, { text_op: [5, "!"] });
    expect((await mutate(bob, [typed]))[0]!.status).toBe("success");
    const [type] = await mutate(bob, [update(block, 1, { type: "heading" }, typed.client_op_id)]);
    expect(type!.status).toBe("conflict");
  });

  it("MUT-9: a chain never conflicts with its own earlier changes to the same field", async () => {
    const block = await createBlock();
    const parent = await createBlock();
    const other = await createBlock();
    // Alice edits the text meanwhile: a field the chain does not set.
    await mutate(alice, [update(block, 1, { text_op: ["> "] })]);
    const chain: Record<string, unknown>[] = [];
    const link = (fields: Record<string, unknown>) => {
      const op = update(block, 1, fields, chain.at(-1)?.client_op_id as string | undefined);
      chain.push(op);
      return op;
    };
    link({ type: "quote" });
    link({ type: "heading" });
    link({ props: { level: 1 } });
    link({ props: { level: 2 } });
    link({ parent_id: parent });
    link({ parent_id: null });
    link({ position: { after: other } });
    link({ position: { before: other } });
    const results = await mutate(bob, chain);
    expect(results.map((r) => r.status)).toEqual(chain.map(() => "success"));
    expect(results.at(-1)!.block).toMatchObject({
      type: "heading",
      props: { level: 2 },
      parent_id: null,
      content: "> Hello",
    });
    // Wholesale content twice in one chain (nobody else touched the text).
    const seen = results.at(-1)!.version!;
    const replaced = update(block, seen, { content: "replaced" });
    const again = update(block, seen, { content: "replaced again" }, replaced.client_op_id);
    const [one, two] = await mutate(bob, [replaced, again]);
    expect([one!.status, two!.status]).toEqual(["success", "success"]);
  });

  it("MUT-9: a chain's own text edit does not hide another user's text edit from its wholesale content change", async () => {
    const block = await createBlock();
    await mutate(alice, [update(block, 1, { text_op: [5, " world"] })]);
    const typed = update(block, 1, { text_op: ["Oh, "] });
    const replaced = update(block, 1, { content: "Bye" }, typed.client_op_id);
    const [text, content] = await mutate(bob, [typed, replaced]);
    expect(text!.status).toBe("success");
    expect(content!.status).toBe("conflict");
    expect(content!.conflict!.fields.map((f) => f.field)).toEqual(["content"]);
  });

  it("MUT-9: naming another user's op as the predecessor does not hide that user's change", async () => {
    const block = await createBlock();
    const aliceOp = update(block, 1, { type: "quote" });
    await mutate(alice, [aliceOp]);
    const [r] = await mutate(bob, [update(block, 1, { type: "heading" }, aliceOp.client_op_id)]);
    expect(r!.status).toBe("conflict");
  });

  it("MUT-9: a chain whose earlier op conflicted still judges its later ops against others' changes only", async () => {
    const block = await createBlock();
    await mutate(alice, [update(block, 1, { props: { color: "red" } })]);
    const first = update(block, 1, { props: { color: "blue" } });
    const second = update(block, 1, { type: "quote" }, first.client_op_id);
    const third = update(block, 1, { type: "heading" }, second.client_op_id);
    const [a, b, c] = await mutate(bob, [first, second, third]);
    expect(a!.status).toBe("conflict");
    expect(b!.status).toBe("success");
    expect(c!.status).toBe("success");
  });
});

describe("MUT-10: identical concurrent changes", () => {
  it("MUT-10: both users ticking the same todo is no conflict", async () => {
    const block = await createBlock({ type: "todo", props: { checked: false } });
    expect((await mutate(alice, [update(block, 1, { props: { checked: true } })]))[0]!.status).toBe(
      "success",
    );
    const [r] = await mutate(bob, [update(block, 1, { props: { checked: true } })]);
    expect(r!.status).toBe("success");
    expect(r!.block!.props).toEqual({ checked: true });
  });

  it("MUT-10: the same type, parent, content or position as the current one is no conflict; a different one is", async () => {
    const parent = await createBlock();
    const first = await createBlock();
    const block = await createBlock();
    await mutate(alice, [
      update(block, 1, { type: "quote" }),
      update(block, 2, { parent_id: parent }),
      update(block, 3, { content: "Same" }),
      update(block, 4, { position: { after: parent, before: first } }),
    ]);
    const same = await mutate(bob, [
      update(block, 1, { type: "quote", parent_id: parent, content: "Same", position: { after: parent } }),
    ]);
    expect(same[0]!.status).toBe("success");
    const [differ] = await mutate(bob, [
      update(block, 1, { type: "quote", props: { a: 1 }, content: "Other" }),
    ]);
    expect(differ!.status).toBe("conflict");
    // Only the field that really differs is reported (props was not changed by anyone).
    expect(differ!.conflict!.fields.map((f) => f.field)).toEqual(["content"]);
  });

  it("MUT-10: moving a block to where someone else already moved it is no conflict", async () => {
    const a = await createBlock();
    const b = await createBlock();
    const block = await createBlock();
    await mutate(alice, [update(block, 1, { position: { after: a, before: b } })]);
    const [r] = await mutate(bob, [update(block, 1, { position: { before: b } })]);
    expect(r!.status).toBe("success");
    const [moved] = await mutate(bob, [update(block, 1, { position: { after: b } })]);
    expect(moved!.status).toBe("conflict");
  });
});

describe("SEC-5: bounded rebase history", () => {
  it("SEC-5: a text op more than 1,000 versions behind is refused stale_base, not transformed over the whole history", async () => {
    const block = await createBlock();
    let version = 1;
    for (let round = 0; round < 21; round++) {
      const ops = Array.from({ length: 50 }, (_, i) => update(block, version + i, { text_op: ["x"] }));
      const results = await mutate(alice, ops);
      expect(results.every((r) => r.status === "success")).toBe(true);
      version += 50;
    }
    const [old] = await mutate(bob, [update(block, 1, { text_op: [5, "!"] })]);
    expect(old!.status).toBe("failed");
    expect(old!.error!.code).toBe("stale_base");
    // Within the window it still merges.
    const [recent] = await mutate(bob, [update(block, version - 1000, { text_op: ["!"] })]);
    expect(recent!.status).toBe("success");
  });
});
