/**
 * AUTH-2: effective right = role ∩ token scopes. Leaving a canvas (DELETE of one's own membership)
 * changes the canvas: a token scoped `canvas:P:read` may look, never change membership.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi, type TestUser } from "../support/apiHarness";

let api: TestApi;
let owner: TestUser;

beforeAll(async () => {
  api = await startTestApi();
  owner = await api.user("owner");
});
afterAll(() => api?.stop());

async function isMember(canvasId: string, userId: string): Promise<boolean> {
  const rows = await api.app.deps.db.query(
    "SELECT 1 FROM canvas_members WHERE canvas_id = $1 AND user_id = $2",
    [canvasId, userId],
  );
  return rows.length === 1;
}

const leave = (canvasId: string, userId: string, token: string) =>
  api.anonymous(`/api/v1/canvas/${canvasId}/members/${userId}`, {
    method: "DELETE",
    headers: { authorization: `Bearer ${token}` },
  });

describe("leaving a canvas needs more than a read scope", () => {
  it("AUTH-2: a canvas:P:read token cannot remove its holder from P (403 forbidden); the membership stays", async () => {
    const canvasId = await api.canvas(owner, "scoped");
    for (const role of ["reader", "writer"] as const) {
      const member = await api.user(role);
      await api.member(canvasId, member, role);
      for (const scopes of [[`canvas:${canvasId}:read`], ["canvas:*:read"]]) {
        const token = await api.app.deps.tokens.issue(member.userId, scopes);
        const res = await leave(canvasId, member.userId, token);
        expect(res.status, `${role} ${scopes}`).toBe(403);
        expect(await res.json()).toMatchObject({ code: "forbidden" });
        expect(await isMember(canvasId, member.userId)).toBe(true);
      }
    }
    // The owner's own read-only token cannot remove them either (nor anyone else).
    const ownerRead = await api.app.deps.tokens.issue(owner.userId, [`canvas:${canvasId}:read`]);
    expect((await leave(canvasId, owner.userId, ownerRead)).status).toBe(403);
    expect(await isMember(canvasId, owner.userId)).toBe(true);
  });

  it("AUTH-2: with a write scope for the canvas any member still leaves (204), even a reader", async () => {
    const canvasId = await api.canvas(owner, "leave");
    const reader = await api.user("reader");
    await api.member(canvasId, reader, "reader");
    const token = await api.app.deps.tokens.issue(reader.userId, [
      `canvas:${canvasId}:read`,
      `canvas:${canvasId}:write`,
    ]);
    expect((await leave(canvasId, reader.userId, token)).status).toBe(204);
    expect(await isMember(canvasId, reader.userId)).toBe(false);
    // A scope for another canvas does not count.
    const writer = await api.user("writer");
    await api.member(canvasId, writer, "writer");
    const elsewhere = await api.app.deps.tokens.issue(writer.userId, [
      `canvas:${canvasId}:read`,
      "canvas:00000000-0000-4000-8000-000000000000:write",
    ]);
    expect((await leave(canvasId, writer.userId, elsewhere)).status).toBe(403);
    expect(await isMember(canvasId, writer.userId)).toBe(true);
  });
});
