/**
 * API-1 inside the commit (RT-11): a mutate request whose token may write is checked for the
 * user's role by its group's transaction, under the canvas lock — no query of its own before it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId, seedCanvas, seedUser } from "../../tests/support/fixtures";
import { createTestDatabase, type TestDatabase } from "../../tests/support/testDb";
import type { Database } from "../db/sql";
import { DomainError } from "../domain/errors";
import { MemoryBus } from "../ports/memoryBus";
import { CanvasSync } from "./canvasSync";

let t: TestDatabase;
let db: Database;
let bus: MemoryBus;
let sync: CanvasSync;
let owner: string;
let writer: string;
let reader: string;
let stranger: string;
let canvas: string;

beforeAll(async () => {
  t = await createTestDatabase();
  db = t.db;
  bus = new MemoryBus();
  sync = new CanvasSync({ db, bus, rpcRate: { points: 100_000, duration: 60 } });
  owner = await seedUser(db, "Owner");
  writer = await seedUser(db, "Writer");
  reader = await seedUser(db, "Reader");
  stranger = await seedUser(db, "Stranger");
  canvas = await seedCanvas(db, owner);
  for (const [user, role] of [
    [writer, "writer"],
    [reader, "reader"],
  ] as const)
    await db.query("INSERT INTO canvas_members (canvas_id, user_id, role) VALUES ($1, $2, $3)", [
      canvas,
      user,
      role,
    ]);
});

afterAll(async () => {
  await sync?.close();
  await bus?.close();
  await t?.drop();
});

const create = () => ({
  client_op_id: newId(),
  action: "create",
  block_id: newId(),
  type: "text",
  content: "x",
});
const mutate = (userId: string) =>
  sync.mutate({ canvasId: canvas, userId, ops: [create()], checkWrite: true });

async function logged(userId: string): Promise<number> {
  const [row] = await db.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM block_operations WHERE canvas_id = $1 AND user_id = $2",
    [canvas, userId],
  );
  return row!.n;
}

describe("write check inside the commit (API-1, RT-11)", () => {
  it("API-1: a reader's request is refused (forbidden), a non-member's is not found, and neither writes anything", async () => {
    await expect(mutate(reader)).rejects.toMatchObject({ code: "forbidden" });
    await expect(mutate(stranger)).rejects.toMatchObject({ code: "canvas_not_found" });
    expect(await logged(reader)).toBe(0);
    expect(await logged(stranger)).toBe(0);
    const ok = await mutate(writer);
    expect(ok.results[0]!.status).toBe("success");
  });

  it("API-1: in one group, only the refused request fails; the others commit", async () => {
    const [a, b, c] = await Promise.allSettled([mutate(owner), mutate(reader), mutate(writer)]);
    expect(a.status).toBe("fulfilled");
    expect(c.status).toBe("fulfilled");
    expect(b.status).toBe("rejected");
    expect((b as PromiseRejectedResult).reason).toBeInstanceOf(DomainError);
    expect(((b as PromiseRejectedResult).reason as DomainError).code).toBe("forbidden");
  });

  it("API-1: a member removed before the commit commits nothing (the check holds the canvas lock)", async () => {
    const gone = await seedUser(db, "Gone");
    await db.query("INSERT INTO canvas_members (canvas_id, user_id, role) VALUES ($1, $2, 'writer')", [
      canvas,
      gone,
    ]);
    expect((await mutate(gone)).results[0]!.status).toBe("success");
    await db.query("DELETE FROM canvas_members WHERE canvas_id = $1 AND user_id = $2", [canvas, gone]);
    await expect(mutate(gone)).rejects.toMatchObject({ code: "canvas_not_found" });
    expect(await logged(gone)).toBe(1);
  });
});
