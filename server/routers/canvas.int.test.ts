import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi } from "../../tests/support/apiHarness";
import { DEFAULT_RATE_LIMITS } from "../env";

/** Limits out of the way: these tests are about canvases, not API-2. */
const UNLIMITED = JSON.stringify(
  Object.fromEntries(Object.keys(DEFAULT_RATE_LIMITS).map((id) => [id, { points: 1_000_000, duration: 1 }])),
);

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi({ RATE_LIMITS: UNLIMITED });
});
afterAll(async () => api?.stop());

/** Collects what the bus delivers on `channel`. */
async function listen(channel: string) {
  const messages: Record<string, unknown>[] = [];
  const unsubscribe = await api.app.deps.bus.subscribe(channel, (m) => messages.push(JSON.parse(m)));
  return {
    messages,
    async next(predicate: (m: Record<string, unknown>) => boolean = () => true) {
      for (let i = 0; i < 100; i++) {
        const found = messages.find(predicate);
        if (found) return found;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`no matching message on ${channel}; got ${JSON.stringify(messages)}`);
    },
    unsubscribe,
  };
}

const count = async (sql: string, params: unknown[]) =>
  (await api.app.deps.db.query<{ n: number }>(sql, params))[0]!.n;

describe("A4/A5: listing and creating canvases", () => {
  it("A5: creates a canvas with its owner membership in one go, 201 with the canvas, audited", async () => {
    const user = await api.user("Ada");
    const res = await user.fetch("/api/v1/canvas", {
      method: "POST",
      json: { title: "  Roadmap ", settings: { theme: "dark" } },
    });
    expect(res.status).toBe(201);
    const canvas = (await res.json()) as Record<string, unknown>;
    expect(canvas).toEqual({
      canvas_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      title: "Roadmap",
      settings: { theme: "dark" },
      owner_id: user.userId,
      role: "owner",
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/),
      updated_at: expect.stringMatching(/Z$/),
      last_change_at: null,
    });
    const members = await user.fetch(`/api/v1/canvas/${canvas.canvas_id}/members`);
    expect(await members.json()).toEqual({
      members: [{ user_id: user.userId, email: `${user.userId}@example.test`, name: "Ada", role: "owner" }],
      invitations: [],
    });
    expect(
      await count(
        "SELECT count(*)::int AS n FROM system_audit WHERE canvas_id = $1 AND action = 'canvas.create'",
        [canvas.canvas_id],
      ),
    ).toBe(1);
  });

  it("API-3: A5 refuses bad bodies with 400 problem+json and creates nothing", async () => {
    const user = await api.user();
    for (const json of [
      {},
      { title: "" },
      { title: "x".repeat(201) },
      { title: 5 },
      { title: "ok", settings: [1] },
      { title: "ok", settings: "dark" },
      { title: "ok", colour: "red" },
      { title: "a\u0000b" },
      { title: "\ud800" },
      { title: "ok", settings: { a: "x\u0000" } },
      { title: "ok", settings: { "k\u0000": 1 } },
      { title: "ok", settings: { deep: [{ s: "\udc00" }] } },
      { title: "ok", settings: { big: "x".repeat(70_000) } },
    ]) {
      const res = await user.fetch("/api/v1/canvas", { method: "POST", json });
      expect(res.status, JSON.stringify(json)).toBe(400);
      expect(res.headers.get("content-type")).toContain("application/problem+json");
      expect(await res.json()).toMatchObject({ status: 400, code: "invalid_input" });
    }
    expect(await count("SELECT count(*)::int AS n FROM canvas WHERE owner_id = $1", [user.userId])).toBe(0);
  });

  it("A4: lists the caller's canvases with their role, most recently updated first", async () => {
    const owner = await api.user();
    const other = await api.user();
    const first = await api.canvas(owner, "first");
    const shared = await api.canvas(other, "shared with owner");
    await api.member(shared, owner, "reader");
    const third = await api.canvas(owner, "third");
    await api.canvas(other, "not mine");
    // Most recent change first: touch `first` last.
    await api.app.deps.db.query(
      "UPDATE canvas SET updated_at = now() + interval '1 minute' WHERE canvas_id = $1",
      [first],
    );
    const res = await owner.fetch("/api/v1/canvas");
    expect(res.status).toBe(200);
    const { canvases } = (await res.json()) as {
      canvases: { canvas_id: string; role: string; title: string }[];
    };
    expect(canvases.map((c) => [c.title, c.role])).toEqual([
      ["first", "owner"],
      ["third", "owner"],
      ["shared with owner", "reader"],
    ]);
    expect(canvases.map((c) => c.canvas_id)).toEqual([first, third, shared]);
  });

  it("A4: last_change_at is the time of the canvas's last applied op", async () => {
    const owner = await api.user();
    const canvasId = await api.canvas(owner);
    await api.app.deps.canvasSync.mutate({
      canvasId,
      userId: owner.userId,
      ops: [
        { client_op_id: randomUUID(), action: "create", block_id: randomUUID(), type: "text", content: "hi" },
      ],
    });
    const { canvases } = (await (await owner.fetch("/api/v1/canvas")).json()) as {
      canvases: { last_change_at: string | null }[];
    };
    expect(canvases).toHaveLength(1);
    expect(Date.now() - Date.parse(canvases[0]!.last_change_at!)).toBeLessThan(60_000);
  });

  it("A4: a token scoped to one canvas lists only that canvas", async () => {
    const owner = await api.user();
    const a = await api.canvas(owner, "a");
    await api.canvas(owner, "b");
    const token = await api.app.deps.tokens.issue(owner.userId, [`canvas:${a}:read`]);
    const res = await api.anonymous("/api/v1/canvas", { headers: { authorization: `Bearer ${token}` } });
    const { canvases } = (await res.json()) as { canvases: { canvas_id: string }[] };
    expect(canvases.map((c) => c.canvas_id)).toEqual([a]);
  });

  it("API-1: canvas routes without a token answer 401", async () => {
    const owner = await api.user();
    const canvasId = await api.canvas(owner);
    expect((await api.anonymous("/api/v1/canvas")).status).toBe(401);
    expect((await api.anonymous("/api/v1/canvas", { method: "POST", json: { title: "x" } })).status).toBe(
      401,
    );
    expect((await api.anonymous(`/api/v1/canvas/${canvasId}/permissions`)).status).toBe(401);
  });
});

describe("A5: Idempotency-Key", () => {
  const create = (user: Awaited<ReturnType<TestApi["user"]>>, key: string, json: unknown) =>
    user.fetch("/api/v1/canvas", { method: "POST", json, headers: { "idempotency-key": key } });

  it("A5: the same key and body answer the first 201 again and create nothing", async () => {
    const user = await api.user();
    const key = randomUUID();
    const first = await create(user, key, { title: "Once", settings: { a: 1, b: 2 } });
    expect(first.status).toBe(201);
    const body = await first.json();
    // Same body, keys in another order.
    const again = await create(user, key, { settings: { b: 2, a: 1 }, title: "Once" });
    expect(again.status).toBe(201);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(await again.json()).toEqual(body);
    expect(await count("SELECT count(*)::int AS n FROM canvas WHERE owner_id = $1", [user.userId])).toBe(1);
    expect(
      await count(
        "SELECT count(*)::int AS n FROM system_audit WHERE actor_id = $1 AND action = 'canvas.create'",
        [user.userId],
      ),
    ).toBe(1);
  });

  it("A5: the same key with a different body is 422 idempotency_mismatch and creates nothing", async () => {
    const user = await api.user();
    const key = randomUUID();
    expect((await create(user, key, { title: "One" })).status).toBe(201);
    const res = await create(user, key, { title: "Two" });
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ status: 422, code: "idempotency_mismatch" });
    expect(await count("SELECT count(*)::int AS n FROM canvas WHERE owner_id = $1", [user.userId])).toBe(1);
  });

  it("A5: keys are scoped per user", async () => {
    const [a, b] = [await api.user(), await api.user()];
    const key = randomUUID();
    const ra = (await (await create(a, key, { title: "Same" })).json()) as { canvas_id: string };
    const rb = (await (await create(b, key, { title: "Same" })).json()) as { canvas_id: string };
    expect(ra.canvas_id).not.toBe(rb.canvas_id);
    expect((await create(b, key, { title: "Other" })).status).toBe(422);
  });

  it("A5: concurrent requests with one key create exactly one canvas", async () => {
    const user = await api.user();
    const key = randomUUID();
    const answers = await Promise.all(Array.from({ length: 5 }, () => create(user, key, { title: "Race" })));
    expect(answers.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
    const ids = new Set(
      await Promise.all(answers.map(async (r) => ((await r.json()) as { canvas_id: string }).canvas_id)),
    );
    expect(ids.size).toBe(1);
    expect(await count("SELECT count(*)::int AS n FROM canvas WHERE owner_id = $1", [user.userId])).toBe(1);
  });

  it("A5: a key past 24 h is forgotten; without a key every request creates", async () => {
    const user = await api.user();
    const key = randomUUID();
    expect((await create(user, key, { title: "Old" })).status).toBe(201);
    await api.app.deps.db.query(
      "UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE user_id = $1",
      [user.userId],
    );
    const res = await create(user, key, { title: "New" });
    expect(res.status).toBe(201);
    expect(res.headers.get("idempotent-replayed")).toBeNull();
    for (let i = 0; i < 2; i++)
      await user.fetch("/api/v1/canvas", { method: "POST", json: { title: "No key" } });
    expect(await count("SELECT count(*)::int AS n FROM canvas WHERE owner_id = $1", [user.userId])).toBe(4);
  });

  it("API-3: a malformed Idempotency-Key is a 400 and creates nothing", async () => {
    const user = await api.user();
    const res = await create(user, "x".repeat(256), { title: "Nope" });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: "invalid_input" });
    expect(await count("SELECT count(*)::int AS n FROM canvas WHERE owner_id = $1", [user.userId])).toBe(0);
  });
});

describe("A6: updating a canvas", () => {
  it("A6: the owner renames and replaces settings; the answer is the updated canvas", async () => {
    const owner = await api.user();
    const canvasId = await api.canvas(owner, "Before");
    const before = (await (await owner.fetch("/api/v1/canvas")).json()) as {
      canvases: { updated_at: string }[];
    };
    const control = await listen(`canvas-control:${canvasId}`);
    const res = await owner.fetch(`/api/v1/canvas/${canvasId}`, {
      method: "PATCH",
      json: { title: "After", settings: { grid: true } },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, string>;
    expect(body).toMatchObject({
      canvas_id: canvasId,
      title: "After",
      settings: { grid: true },
      role: "owner",
    });
    expect(Date.parse(body.updated_at!)).toBeGreaterThanOrEqual(Date.parse(before.canvases[0]!.updated_at));
    const titleOnly = await owner.fetch(`/api/v1/canvas/${canvasId}`, {
      method: "PATCH",
      json: { title: "T" },
    });
    expect(await titleOnly.json()).toMatchObject({ title: "T", settings: { grid: true } });
    expect(await control.next((m) => m.type === "canvas_updated")).toMatchObject({
      type: "canvas_updated",
      canvas_id: canvasId,
    });
    await control.unsubscribe();
  });

  it("A6: writers and readers get 403, and nothing changes", async () => {
    const owner = await api.user();
    const writer = await api.user();
    const canvasId = await api.canvas(owner, "Keep");
    await api.member(canvasId, writer, "writer");
    const res = await writer.fetch(`/api/v1/canvas/${canvasId}`, {
      method: "PATCH",
      json: { title: "Mine" },
    });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ code: "forbidden" });
    const [row] = await api.app.deps.db.query<{ title: string }>(
      "SELECT title FROM canvas WHERE canvas_id = $1",
      [canvasId],
    );
    expect(row?.title).toBe("Keep");
  });

  it("API-3: A6 refuses an empty patch, bad fields and a bad UUID with 400", async () => {
    const owner = await api.user();
    const canvasId = await api.canvas(owner, "Keep");
    for (const json of [{}, { title: "" }, { settings: null }, { title: "ok", owner_id: owner.userId }]) {
      const res = await owner.fetch(`/api/v1/canvas/${canvasId}`, { method: "PATCH", json });
      expect(res.status, JSON.stringify(json)).toBe(400);
    }
    expect(
      (await owner.fetch("/api/v1/canvas/not-a-uuid", { method: "PATCH", json: { title: "x" } })).status,
    ).toBe(400);
    const [row] = await api.app.deps.db.query<{ title: string }>(
      "SELECT title FROM canvas WHERE canvas_id = $1",
      [canvasId],
    );
    expect(row?.title).toBe("Keep");
  });
});

describe("A7: deleting a canvas", () => {
  it("A7: the owner deletes (204); afterwards every canvas route is 404 for everyone; canvas_deleted is published", async () => {
    const owner = await api.user();
    const writer = await api.user();
    const canvasId = await api.canvas(owner);
    await api.member(canvasId, writer, "writer");
    const control = await listen(`canvas-control:${canvasId}`);
    const writerChannel = await listen(`user:${writer.userId}`);

    const res = await owner.fetch(`/api/v1/canvas/${canvasId}`, { method: "DELETE" });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe("");

    expect(await control.next()).toEqual({ type: "canvas_deleted", canvas_id: canvasId });
    expect(await writerChannel.next()).toEqual({ type: "canvas_deleted", canvas_id: canvasId });
    for (const user of [owner, writer]) {
      for (const [method, path, json] of [
        ["GET", `/api/v1/canvas/${canvasId}/permissions`],
        ["GET", `/api/v1/canvas/${canvasId}/members`],
        ["GET", `/api/v1/canvas/${canvasId}/audit`],
        ["PATCH", `/api/v1/canvas/${canvasId}`, { title: "x" }],
        ["DELETE", `/api/v1/canvas/${canvasId}`],
      ] as const) {
        const r = await user.fetch(path, { method, json });
        expect(r.status, `${method} ${path}`).toBe(404);
      }
      const { canvases } = (await (await user.fetch("/api/v1/canvas")).json()) as { canvases: unknown[] };
      expect(canvases).toEqual([]);
    }
    // Soft delete: the row stays for the cleanup worker, and the deletion is audited.
    expect(
      await count("SELECT count(*)::int AS n FROM canvas WHERE canvas_id = $1 AND deleted_at IS NOT NULL", [
        canvasId,
      ]),
    ).toBe(1);
    expect(
      await count(
        "SELECT count(*)::int AS n FROM system_audit WHERE canvas_id = $1 AND action = 'canvas.delete'",
        [canvasId],
      ),
    ).toBe(1);
    await control.unsubscribe();
    await writerChannel.unsubscribe();
  });

  it("A7: a writer cannot delete (403) and the canvas stays", async () => {
    const owner = await api.user();
    const writer = await api.user();
    const canvasId = await api.canvas(owner);
    await api.member(canvasId, writer, "writer");
    expect((await writer.fetch(`/api/v1/canvas/${canvasId}`, { method: "DELETE" })).status).toBe(403);
    expect((await owner.fetch(`/api/v1/canvas/${canvasId}/permissions`)).status).toBe(200);
  });
});

describe("A8: permissions", () => {
  it("A8: effective rights of the caller and every member with presence", async () => {
    const owner = await api.user("Olga");
    const writer = await api.user("Wim");
    const reader = await api.user("Rhea");
    const canvasId = await api.canvas(owner);
    await api.member(canvasId, writer, "writer");
    await api.member(canvasId, reader, "reader");
    const db = api.app.deps.db;
    // Online comes from the presence registry (RT-7): the writer is present through H3.
    const present = await writer.fetch(`/api/v1/canvas/${canvasId}/presence`, {
      method: "POST",
      json: { typing: false },
    });
    expect(present.status).toBe(200);
    await db.query(
      "UPDATE canvas_members SET last_active_at = now() - interval '5 minutes' WHERE canvas_id = $1 AND user_id = $2",
      [canvasId, reader.userId],
    );

    const res = await reader.fetch(`/api/v1/canvas/${canvasId}/permissions`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { users: { last_active_at: string | null }[] };
    expect(body).toEqual({
      can_read: true,
      can_write: false,
      is_owner: false,
      role: "reader",
      users: [
        { user_id: owner.userId, name: "Olga", role: "owner", online: false, last_active_at: null },
        {
          user_id: writer.userId,
          name: "Wim",
          role: "writer",
          online: true,
          last_active_at: expect.any(String),
        },
        {
          user_id: reader.userId,
          name: "Rhea",
          role: "reader",
          online: false,
          last_active_at: expect.any(String),
        },
      ],
    });
    expect(await (await writer.fetch(`/api/v1/canvas/${canvasId}/permissions`)).json()).toMatchObject({
      can_write: true,
      is_owner: false,
      role: "writer",
    });
    expect(await (await owner.fetch(`/api/v1/canvas/${canvasId}/permissions`)).json()).toMatchObject({
      can_write: true,
      is_owner: true,
      role: "owner",
    });
  });

  it("A8: a read-only token narrows the owner's rights (role ∩ scopes)", async () => {
    const owner = await api.user();
    const canvasId = await api.canvas(owner);
    const token = await api.app.deps.tokens.issue(owner.userId, [`canvas:${canvasId}:read`]);
    const res = await api.anonymous(`/api/v1/canvas/${canvasId}/permissions`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(await res.json()).toMatchObject({
      can_read: true,
      can_write: false,
      is_owner: false,
      role: "owner",
    });
  });

  it("API-1: a stranger gets 404 and a bad UUID 400", async () => {
    const owner = await api.user();
    const stranger = await api.user();
    const canvasId = await api.canvas(owner);
    const res = await stranger.fetch(`/api/v1/canvas/${canvasId}/permissions`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: "canvas_not_found" });
    expect((await owner.fetch("/api/v1/canvas/123/permissions")).status).toBe(400);
  });
});
