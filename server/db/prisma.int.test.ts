import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../tests/support/testDb";
import { migrate } from "./migrate";
import { createPgliteDatabase } from "./pgliteDatabase";
import { createPrismaClient, type PrismaClient } from "./prisma";
import type { Database } from "./sql";

interface Target {
  name: string;
  open(): Promise<{ db: Database; close(): Promise<void> }>;
}

// Always embedded PGlite (with and without pgvector); server PostgreSQL too when DATABASE_URL is
// set (through PgBouncer in CI, which is what the Prisma adapter meets in production).
const targets: Target[] = [
  {
    name: "PGlite",
    async open() {
      const db = await createPgliteDatabase(null);
      await migrate(db);
      return { db, close: () => db.close() };
    },
  },
  {
    name: "PGlite without pgvector",
    async open() {
      const db = await createPgliteDatabase(null, { vector: false });
      await migrate(db);
      return { db, close: () => db.close() };
    },
  },
];
if (process.env.DATABASE_URL) {
  targets.push({
    name: "PostgreSQL",
    async open() {
      const t: TestDatabase = await createTestDatabase();
      return { db: t.db, close: () => t.drop() };
    },
  });
}

describe.each(targets)("Prisma client on $name", (target) => {
  let handle: { db: Database; close(): Promise<void> };
  let prisma: PrismaClient;

  beforeAll(async () => {
    handle = await target.open();
    prisma = createPrismaClient(handle.db);
  });

  afterAll(async () => {
    await prisma?.$disconnect();
    await handle?.close();
  });

  it("DB-1: creates and reads every model through the generated client", async () => {
    const user = await prisma.user.create({
      data: { email: `${randomUUID()}@example.test`, name: "Ada", passwordHash: "x" },
    });
    expect(user.userId).toMatch(/^[0-9a-f-]{36}$/);

    const canvas = await prisma.canvas.create({
      data: {
        title: "Plan",
        settings: { theme: "dark" },
        owner: { connect: { userId: user.userId } },
        members: { create: { userId: user.userId, role: "owner" } },
      },
    });
    expect(canvas.lastSeq).toBeNull();

    const parentId = randomUUID();
    await prisma.block.create({
      data: { blockId: parentId, canvasId: canvas.canvasId, type: "heading", content: "Title", yOrder: "i" },
    });
    const child = await prisma.block.create({
      data: {
        blockId: randomUUID(),
        canvasId: canvas.canvasId,
        parentId,
        type: "todo",
        props: { checked: false },
        yOrder: "r",
        createdBy: user.userId,
      },
    });
    expect(child.version).toBe(1);
    expect(child.fieldVersions).toEqual({});

    const op = await prisma.blockOperation.create({
      data: {
        serverSeq: 1n,
        canvasId: canvas.canvasId,
        blockId: child.blockId,
        clientOpId: randomUUID(),
        userId: user.userId,
        action: "create",
        status: "success",
        payload: { type: "todo" },
        payloadHash: "h",
        result: { ok: true },
      },
    });
    expect(op.serverSeq).toBe(1n);

    const audit = await prisma.systemAudit.create({
      data: { action: "canvas.create", status: "ok", actorId: user.userId, detail: { via: "prisma" } },
    });
    const token = await prisma.refreshToken.create({
      data: {
        userId: user.userId,
        familyId: randomUUID(),
        tokenHash: randomUUID(),
        expiresAt: new Date(Date.now() + 60_000),
      },
    });
    const windowStart = new Date(Math.floor(Date.now() / 60_000) * 60_000);
    await prisma.rpcRateLimit.create({ data: { userId: user.userId, windowStart, count: 1 } });
    await prisma.idempotencyKey.create({
      data: {
        userId: user.userId,
        scope: "A5",
        key: "k-1",
        requestHash: "h",
        statusCode: 201,
        response: { canvas_id: canvas.canvasId },
        expiresAt: new Date(Date.now() + 86_400_000),
      },
    });

    // Reads, including relations in both directions.
    const readUser = await prisma.user.findUniqueOrThrow({
      where: { userId: user.userId },
      include: {
        ownedCanvases: true,
        memberships: true,
        createdBlocks: true,
        operations: true,
        refreshTokens: true,
      },
    });
    expect(readUser.ownedCanvases.map((c) => c.canvasId)).toEqual([canvas.canvasId]);
    expect(readUser.memberships).toEqual([expect.objectContaining({ role: "owner" })]);
    expect(readUser.createdBlocks.map((b) => b.blockId)).toEqual([child.blockId]);
    expect(readUser.operations.map((o) => o.serverSeq)).toEqual([op.serverSeq]);
    expect(readUser.refreshTokens.map((r) => r.tokenId)).toEqual([token.tokenId]);

    const readCanvas = await prisma.canvas.findUniqueOrThrow({
      where: { canvasId: canvas.canvasId },
      include: { blocks: { orderBy: { yOrder: "asc" } }, members: true, owner: true },
    });
    expect(readCanvas.settings).toEqual({ theme: "dark" });
    expect(readCanvas.blocks.map((b) => b.yOrder)).toEqual(["i", "r"]);
    expect(readCanvas.owner.email).toBe(user.email);

    const readParent = await prisma.block.findUniqueOrThrow({
      where: { blockId: parentId },
      include: { children: true },
    });
    expect(readParent.children.map((b) => b.blockId)).toEqual([child.blockId]);
    expect(
      await prisma.canvasMember.findUniqueOrThrow({
        where: { canvasId_userId: { canvasId: canvas.canvasId, userId: user.userId } },
      }),
    ).toMatchObject({ role: "owner" });
    expect(
      await prisma.blockOperation.findUniqueOrThrow({
        where: { clientOpId_blockId: { clientOpId: op.clientOpId, blockId: op.blockId } },
      }),
    ).toMatchObject({ payload: { type: "todo" }, contentSet: false });
    expect(
      await prisma.systemAudit.findUniqueOrThrow({
        where: { auditId_createdAt: { auditId: audit.auditId, createdAt: audit.createdAt } },
      }),
    ).toMatchObject({ detail: { via: "prisma" } });
    expect(
      await prisma.refreshToken.findUniqueOrThrow({ where: { tokenHash: token.tokenHash } }),
    ).toMatchObject({
      userId: user.userId,
    });
    expect(
      await prisma.rpcRateLimit.findUniqueOrThrow({
        where: { userId_windowStart: { userId: user.userId, windowStart } },
      }),
    ).toMatchObject({ count: 1 });
    expect(
      await prisma.idempotencyKey.findUniqueOrThrow({
        where: { userId_scope_key: { userId: user.userId, scope: "A5", key: "k-1" } },
        include: { user: true },
      }),
    ).toMatchObject({
      statusCode: 201,
      response: { canvas_id: canvas.canvasId },
      user: { email: user.email },
    });

    // An interactive transaction shares the port's connection(s) and rolls back on error.
    await expect(
      prisma.$transaction(async (tx) => {
        await tx.canvas.update({ where: { canvasId: canvas.canvasId }, data: { title: "Renamed" } });
        throw new Error("abort");
      }),
    ).rejects.toThrow("abort");
    expect((await prisma.canvas.findUniqueOrThrow({ where: { canvasId: canvas.canvasId } })).title).toBe(
      "Plan",
    );

    // The raw port sees what Prisma wrote (same database, same connections).
    const rows = await handle.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM blocks WHERE canvas_id = $1",
      [canvas.canvasId],
    );
    expect(rows).toEqual([{ n: 2 }]);
  });
});
