import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi, type TestUser } from "../../tests/support/apiHarness";
import { DEFAULT_RATE_LIMITS } from "../env";

/** Limits out of the way: these tests are about members, not API-2. */
const UNLIMITED = JSON.stringify(
  Object.fromEntries(Object.keys(DEFAULT_RATE_LIMITS).map((id) => [id, { points: 1_000_000, duration: 1 }])),
);

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi({ RATE_LIMITS: UNLIMITED });
});
afterAll(async () => api?.stop());

async function listen(channel: string) {
  const messages: Record<string, unknown>[] = [];
  const unsubscribe = await api.app.deps.bus.subscribe(channel, (m) => messages.push(JSON.parse(m)));
  return {
    messages,
    async next(predicate: (m: Record<string, unknown>) => boolean) {
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

const email = (u: TestUser) => `${u.userId}@example.test`;
const roleOf = async (canvasId: string, userId: string) =>
  (
    await api.app.deps.db.query<{ role: string }>(
      "SELECT role FROM canvas_members WHERE canvas_id = $1 AND user_id = $2",
      [canvasId, userId],
    )
  )[0]?.role;
const auditCount = async (canvasId: string, action: string) =>
  (
    await api.app.deps.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM system_audit WHERE canvas_id = $1 AND action = $2",
      [canvasId, action],
    )
  )[0]!.n;

async function team() {
  const owner = await api.user("Owner");
  const writer = await api.user("Writer");
  const reader = await api.user("Reader");
  const canvasId = await api.canvas(owner);
  await api.member(canvasId, writer, "writer");
  await api.member(canvasId, reader, "reader");
  return { owner, writer, reader, canvasId, base: `/api/v1/canvas/${canvasId}/members` };
}

describe("members: listing", () => {
  it("members: any member lists members with email, name and role; owners first", async () => {
    const { owner, writer, reader, base } = await team();
    for (const user of [owner, writer, reader]) {
      const res = await user.fetch(base);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({
        members: [
          { user_id: owner.userId, email: email(owner), name: "Owner", role: "owner" },
          { user_id: writer.userId, email: email(writer), name: "Writer", role: "writer" },
          { user_id: reader.userId, email: email(reader), name: "Reader", role: "reader" },
        ],
        invitations: [],
      });
    }
  });

  it("API-1: members of a canvas are 404 for a stranger", async () => {
    const { base } = await team();
    const stranger = await api.user();
    expect((await stranger.fetch(base)).status).toBe(404);
  });
});

describe("members: adding", () => {
  it("members: the owner adds a user by email (201, as an invitation); they get access at once; member_added is published", async () => {
    const { owner, canvasId, base } = await team();
    const newcomer = await api.user("Newcomer");
    expect((await newcomer.fetch(`/api/v1/canvas/${canvasId}/permissions`)).status).toBe(404);
    const control = await listen(`canvas-control:${canvasId}`);
    const personal = await listen(`user:${newcomer.userId}`);
    const res = await owner.fetch(base, {
      method: "POST",
      json: { email: `  ${email(newcomer).toUpperCase()} `, role: "writer" },
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({
      invitation_id: expect.any(String),
      email: email(newcomer),
      role: "writer",
      created_at: expect.any(String),
    });
    expect(await (await newcomer.fetch(`/api/v1/canvas/${canvasId}/permissions`)).json()).toMatchObject({
      role: "writer",
      can_write: true,
    });
    const expected = { type: "member_added", canvas_id: canvasId, user_id: newcomer.userId, role: "writer" };
    expect(await control.next((m) => m.type === "member_added")).toEqual(expected);
    expect(await personal.next((m) => m.type === "member_added")).toEqual(expected);
    expect(await auditCount(canvasId, "member.invite")).toBe(1);
    await control.unsubscribe();
    await personal.unsubscribe();
  });

  it("members: an existing member is 409 already_member", async () => {
    const { owner, writer, canvasId, base } = await team();
    const again = await owner.fetch(base, { method: "POST", json: { email: email(writer), role: "reader" } });
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ code: "already_member" });
    expect(await roleOf(canvasId, writer.userId)).toBe("writer");
  });

  it("members: writers and readers may not add (403); bad bodies are 400; nothing changes", async () => {
    const { owner, writer, reader, canvasId, base } = await team();
    const newcomer = await api.user();
    for (const user of [writer, reader]) {
      const res = await user.fetch(base, {
        method: "POST",
        json: { email: email(newcomer), role: "reader" },
      });
      expect(res.status).toBe(403);
    }
    for (const json of [
      { email: email(newcomer), role: "admin" },
      { email: "not-an-email", role: "reader" },
      { role: "reader" },
      { email: email(newcomer), role: "reader", extra: 1 },
    ]) {
      expect((await owner.fetch(base, { method: "POST", json })).status, JSON.stringify(json)).toBe(400);
    }
    expect(await roleOf(canvasId, newcomer.userId)).toBeUndefined();
  });
});

describe("members: changing roles", () => {
  it("members: the owner changes a role; the member's rights follow at once; member_changed is published", async () => {
    const { owner, writer, canvasId, base } = await team();
    const personal = await listen(`user:${writer.userId}`);
    const res = await owner.fetch(`${base}/${writer.userId}`, { method: "PATCH", json: { role: "reader" } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ user_id: writer.userId, role: "reader" });
    expect(await (await writer.fetch(`/api/v1/canvas/${canvasId}/permissions`)).json()).toMatchObject({
      can_write: false,
    });
    expect(await personal.next((m) => m.type === "member_changed")).toEqual({
      type: "member_changed",
      canvas_id: canvasId,
      user_id: writer.userId,
      role: "reader",
    });
    expect(await auditCount(canvasId, "member.update")).toBe(1);
    await personal.unsubscribe();
  });

  it("members: demoting the last owner is 409 last_owner; with a second owner it works and owner_id follows", async () => {
    const { owner, writer, canvasId, base } = await team();
    const self = await owner.fetch(`${base}/${owner.userId}`, { method: "PATCH", json: { role: "writer" } });
    expect(self.status).toBe(409);
    expect(await self.json()).toMatchObject({ code: "last_owner" });
    expect(await roleOf(canvasId, owner.userId)).toBe("owner");

    expect(
      (await owner.fetch(`${base}/${writer.userId}`, { method: "PATCH", json: { role: "owner" } })).status,
    ).toBe(200);
    expect(
      (await owner.fetch(`${base}/${owner.userId}`, { method: "PATCH", json: { role: "reader" } })).status,
    ).toBe(200);
    const [row] = await api.app.deps.db.query<{ owner_id: string }>(
      "SELECT owner_id FROM canvas WHERE canvas_id = $1",
      [canvasId],
    );
    expect(row?.owner_id).toBe(writer.userId);
    // The former owner is a reader now: owner-only routes refuse them.
    expect((await owner.fetch(`/api/v1/canvas/${canvasId}/audit`)).status).toBe(403);
  });

  it("members: concurrent demotions of each other never leave the canvas without an owner", async () => {
    const { owner, writer, canvasId, base } = await team();
    await api.member(canvasId, writer, "owner");
    const answers = await Promise.all([
      owner.fetch(`${base}/${writer.userId}`, { method: "PATCH", json: { role: "reader" } }),
      writer.fetch(`${base}/${owner.userId}`, { method: "PATCH", json: { role: "reader" } }),
    ]);
    const statuses = answers.map((r) => r.status).sort();
    // Either one wins and the other is then no longer an owner (403), or is refused as last owner.
    expect(statuses[0]).toBe(200);
    expect([403, 409]).toContain(statuses[1]);
    const owners = await api.app.deps.db.query(
      "SELECT user_id FROM canvas_members WHERE canvas_id = $1 AND role = 'owner'",
      [canvasId],
    );
    expect(owners).toHaveLength(1);
  });

  it("members: an unknown member is 404 member_not_found; a writer may not change roles (403)", async () => {
    const { owner, writer, reader, canvasId, base } = await team();
    const stranger = await api.user();
    const res = await owner.fetch(`${base}/${stranger.userId}`, {
      method: "PATCH",
      json: { role: "reader" },
    });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: "member_not_found" });
    expect(
      (await writer.fetch(`${base}/${reader.userId}`, { method: "PATCH", json: { role: "writer" } })).status,
    ).toBe(403);
    expect(
      (await owner.fetch(`${base}/not-a-uuid`, { method: "PATCH", json: { role: "writer" } })).status,
    ).toBe(400);
    expect(await roleOf(canvasId, reader.userId)).toBe("reader");
  });
});

describe("members: removing", () => {
  it("members: a removed member loses access at once (next request 404); member_removed is published", async () => {
    const { owner, writer, canvasId, base } = await team();
    const control = await listen(`canvas-control:${canvasId}`);
    const personal = await listen(`user:${writer.userId}`);
    expect((await writer.fetch(`/api/v1/canvas/${canvasId}/permissions`)).status).toBe(200);
    const res = await owner.fetch(`${base}/${writer.userId}`, { method: "DELETE" });
    expect(res.status).toBe(204);
    expect((await writer.fetch(`/api/v1/canvas/${canvasId}/permissions`)).status).toBe(404);
    expect((await writer.fetch(base)).status).toBe(404);
    const expected = { type: "member_removed", canvas_id: canvasId, user_id: writer.userId };
    expect(await control.next((m) => m.type === "member_removed")).toEqual(expected);
    expect(await personal.next((m) => m.type === "member_removed")).toEqual(expected);
    expect(await auditCount(canvasId, "member.remove")).toBe(1);
    await control.unsubscribe();
    await personal.unsubscribe();
  });

  it("members: the last owner cannot be removed (409 last_owner)", async () => {
    const { owner, canvasId, base } = await team();
    const res = await owner.fetch(`${base}/${owner.userId}`, { method: "DELETE" });
    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({ code: "last_owner" });
    expect(await roleOf(canvasId, owner.userId)).toBe("owner");
  });

  it("members: a reader may leave (remove themselves) but not remove others (403)", async () => {
    const { writer, reader, canvasId, base } = await team();
    expect((await reader.fetch(`${base}/${writer.userId}`, { method: "DELETE" })).status).toBe(403);
    expect(await roleOf(canvasId, writer.userId)).toBe("writer");
    expect((await reader.fetch(`${base}/${reader.userId}`, { method: "DELETE" })).status).toBe(204);
    expect(await roleOf(canvasId, reader.userId)).toBeUndefined();
  });

  it("members: removing a non-member is 404 member_not_found", async () => {
    const { owner, base } = await team();
    const stranger = await api.user();
    const res = await owner.fetch(`${base}/${stranger.userId}`, { method: "DELETE" });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: "member_not_found" });
  });
});
