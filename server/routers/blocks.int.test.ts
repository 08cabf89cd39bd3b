import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi, type TestUser } from "../../tests/support/apiHarness";
import { encodeBlockCursor } from "../domain/cursor";

// Generous per-route limits: these tests are about the routes, not the API-2 middleware.
const LIMITS_ENV = JSON.stringify(
  Object.fromEntries(["H2", "H4", "A1", "A2", "A3"].map((id) => [id, { points: 10_000, duration: 1 }])),
);

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi({ RATE_LIMITS: LIMITS_ENV });
});
afterAll(async () => api?.stop());

// biome-ignore lint/suspicious/noExplicitAny: response JSON is inspected loosely in tests
type Json = Record<string, any>;

const create = (content: string, extra: Json = {}) => ({
  client_op_id: randomUUID(),
  action: "create",
  block_id: randomUUID(),
  type: "text",
  content,
  ...extra,
});

async function mutate(user: TestUser, canvasId: string, ops: unknown[]): Promise<Json[]> {
  const res = await user.fetch(`/api/v1/canvas/${canvasId}/mutate`, { method: "POST", json: { ops } });
  expect(res.status, await res.clone().text()).toBe(200);
  const results = ((await res.json()) as { results: Json[] }).results;
  for (const r of results) expect(r.status, JSON.stringify(r)).toBe("success");
  return results;
}

async function page(user: TestUser, canvasId: string, query: string): Promise<Response> {
  return user.fetch(`/api/v1/canvas/${canvasId}/blocks${query}`);
}

describe("A2 blocks in document order", () => {
  let owner: TestUser;
  let canvas: string;
  beforeAll(async () => {
    owner = await api.user();
    canvas = await api.canvas(owner);
    // 120 blocks whose document order differs from creation order: appended, inserted after
    // existing blocks, and inserted at the start.
    const appended = Array.from({ length: 50 }, (_, i) => create(`append-${i}`));
    await mutate(owner, canvas, appended);
    await mutate(
      owner,
      canvas,
      Array.from({ length: 40 }, (_, i) =>
        create(`after-${i}`, { position: { after: appended[(i * 7) % 50]!.block_id } }),
      ),
    );
    let first = appended[0]!.block_id;
    const atStart = [];
    for (let i = 0; i < 30; i++) {
      const op = create(`start-${i}`, { position: { before: first } });
      atStart.push(op);
      first = op.block_id;
    }
    await mutate(owner, canvas, atStart);
  });

  it("A2: pages of 50 over 120 blocks equal the document order (H4 snapshot, y_order byte order)", async () => {
    const items: Json[] = [];
    const cursors: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await page(owner, canvas, `?limit=50${cursor ? `&cursor=${cursor}` : ""}`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { items: Json[]; next_cursor: string | null };
      items.push(...body.items);
      cursor = body.next_cursor;
      if (cursor) cursors.push(cursor);
      pages += 1;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(items).toHaveLength(120);
    expect(new Set(items.map((b) => b.block_id)).size).toBe(120);
    const snap = (await (await owner.fetch(`/api/v1/canvas/${canvas}/snapshot`)).json()) as Json;
    expect(items).toEqual(snap.blocks);
    const keys = items.map((b) => b.y_order as string);
    expect(keys).toEqual([...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
    expect(items[0]!.content).toBe("start-29");
    // Cursors are opaque (no raw key in them).
    for (const c of cursors) expect(keys).not.toContain(c);
  });

  it("A2: limit defaults to 50 and a page stays consistent when the block at the cursor is deleted", async () => {
    const res = await page(owner, canvas, "");
    const body = (await res.json()) as { items: Json[]; next_cursor: string };
    expect(body.items).toHaveLength(50);
    const last = body.items[49]!;
    const next = (await (await page(owner, canvas, `?limit=5&cursor=${body.next_cursor}`)).json()) as Json;
    // Deleting the cursor's block does not break keyset paging (no OFFSET).
    await mutate(owner, canvas, [
      { client_op_id: randomUUID(), action: "delete", block_id: last.block_id, base_version: last.version },
    ]);
    const again = (await (await page(owner, canvas, `?limit=5&cursor=${body.next_cursor}`)).json()) as Json;
    expect(again.items).toEqual(next.items);
  });

  it("A2: a garbage or tampered cursor and an out-of-range limit are 400", async () => {
    const tampered = Buffer.from(JSON.stringify({ y: "0'; DROP TABLE blocks; --" })).toString("base64url");
    for (const q of [
      "?cursor=garbage!!",
      `?cursor=${tampered}`,
      "?cursor=e30",
      "?limit=0",
      "?limit=201",
      "?limit=abc",
    ]) {
      const res = await page(owner, canvas, q);
      expect(res.status, q).toBe(400);
      expect(res.headers.get("content-type")).toContain("application/problem+json");
      if (q.startsWith("?cursor")) expect(((await res.json()) as Json).code, q).toBe("invalid_cursor");
    }
    // A well-formed cursor past the end: an empty last page.
    const end = (await (
      await page(owner, canvas, `?cursor=${encodeBlockCursor("zzzzzzzzzz")}`)
    ).json()) as Json;
    expect(end).toEqual({ items: [], next_cursor: null });
    const max = (await (await page(owner, canvas, "?limit=200")).json()) as Json;
    expect(max.items.length).toBeGreaterThan(100);
    expect(max.next_cursor).toBeNull();
  });

  it("API-1: A2 is 404 for a non-member", async () => {
    const stranger = await api.user();
    expect((await page(stranger, canvas, "")).status).toBe(404);
  });
});

describe("A3 one block", () => {
  it("A3: a live block of the canvas; 404 block_not_found for unknown, deleted or another canvas's block", async () => {
    const owner = await api.user();
    const canvas = await api.canvas(owner);
    const otherCanvas = await api.canvas(owner);
    const [kept, gone] = await mutate(owner, canvas, [create("kept"), create("gone")]);
    const [elsewhere] = await mutate(owner, otherCanvas, [create("elsewhere")]);
    await mutate(owner, canvas, [
      { client_op_id: randomUUID(), action: "delete", block_id: gone!.block_id, base_version: 1 },
    ]);

    const res = await owner.fetch(`/api/v1/canvas/${canvas}/blocks/${kept!.block_id}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(kept!.block);

    for (const id of [gone!.block_id, elsewhere!.block_id, randomUUID()]) {
      const miss = await owner.fetch(`/api/v1/canvas/${canvas}/blocks/${id}`);
      expect(miss.status).toBe(404);
      expect(miss.headers.get("content-type")).toContain("application/problem+json");
      expect(((await miss.json()) as Json).code).toBe("block_not_found");
    }
    expect((await owner.fetch(`/api/v1/canvas/${canvas}/blocks/not-a-uuid`)).status).toBe(400);
    const stranger = await api.user();
    const hidden = await stranger.fetch(`/api/v1/canvas/${canvas}/blocks/${kept!.block_id}`);
    expect(hidden.status).toBe(404);
    expect(((await hidden.json()) as Json).code).toBe("canvas_not_found");
  });
});
