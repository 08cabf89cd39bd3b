import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi } from "../../tests/support/apiHarness";
import { DEFAULT_RATE_LIMITS } from "../env";

/** Limits out of the way: these tests are about the audit route, not API-2. */
const UNLIMITED = JSON.stringify(
  Object.fromEntries(Object.keys(DEFAULT_RATE_LIMITS).map((id) => [id, { points: 1_000_000, duration: 1 }])),
);

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi({ RATE_LIMITS: UNLIMITED });
});
afterAll(async () => api?.stop());

interface AuditPage {
  items: {
    audit_id: number;
    created_at: string;
    action: string;
    actor_id: string | null;
    target_id: string;
  }[];
  next_cursor: string | null;
}

describe("audit", () => {
  it("audit: the owner reads the canvas's audit rows newest first, with the actor and target", async () => {
    const owner = await api.user();
    const created = (await (
      await owner.fetch("/api/v1/canvas", { method: "POST", json: { title: "Audited" } })
    ).json()) as { canvas_id: string };
    const id = created.canvas_id;
    const friend = await api.user();
    const invited = await owner.fetch(`/api/v1/canvas/${id}/members`, {
      method: "POST",
      json: { email: `${friend.userId}@example.test`, role: "reader" },
    });
    const { invitation_id } = (await invited.json()) as { invitation_id: string };
    await owner.fetch(`/api/v1/canvas/${id}`, { method: "PATCH", json: { title: "Renamed" } });
    const res = await owner.fetch(`/api/v1/canvas/${id}/audit`);
    expect(res.status).toBe(200);
    const page = (await res.json()) as AuditPage;
    expect(page.next_cursor).toBeNull();
    expect(page.items.map((i) => i.action)).toEqual(["canvas.update", "member.invite", "canvas.create"]);
    expect(page.items[1]).toMatchObject({
      actor_id: owner.userId,
      target_id: invitation_id,
      status: "success",
      detail: { role: "reader" },
      ip: expect.any(String),
    });
    expect(typeof page.items[0]!.audit_id).toBe("number");
  });

  it("audit: pages with an opaque cursor visit every row once, newest first", async () => {
    const owner = await api.user();
    const id = await api.canvas(owner);
    // Rows sharing one created_at too: the cursor breaks ties on audit_id.
    await api.app.deps.db.query(
      `INSERT INTO system_audit (canvas_id, action, status, created_at)
       SELECT $1, 'test.row' || g, 'success', CASE WHEN g <= 4 THEN now() ELSE now() - make_interval(secs => g) END
         FROM generate_series(1, 11) g`,
      [id],
    );
    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const qs: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
      const res = await owner.fetch(`/api/v1/canvas/${id}/audit?limit=3${qs}`);
      expect(res.status).toBe(200);
      const page = (await res.json()) as AuditPage;
      expect(page.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.items.map((i) => i.audit_id));
      cursor = page.next_cursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(4);
    expect(new Set(seen).size).toBe(11);
    const all = (await (await owner.fetch(`/api/v1/canvas/${id}/audit?limit=200`)).json()) as AuditPage;
    expect(all.items.map((i) => i.audit_id)).toEqual(seen);
    const times = all.items.map((i) => Date.parse(i.created_at));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
  });

  it("audit: only the owner (403 for writers and readers, 404 for strangers)", async () => {
    const owner = await api.user();
    const writer = await api.user();
    const reader = await api.user();
    const stranger = await api.user();
    const id = await api.canvas(owner);
    await api.member(id, writer, "writer");
    await api.member(id, reader, "reader");
    expect((await writer.fetch(`/api/v1/canvas/${id}/audit`)).status).toBe(403);
    expect((await reader.fetch(`/api/v1/canvas/${id}/audit`)).status).toBe(403);
    expect((await stranger.fetch(`/api/v1/canvas/${id}/audit`)).status).toBe(404);
  });

  it("API-3: a bad cursor, limit or UUID is a 400 problem", async () => {
    const owner = await api.user();
    const id = await api.canvas(owner);
    for (const qs of [
      "cursor=garbage",
      `cursor=${Buffer.from('["x","1"]').toString("base64url")}`,
      `cursor=${Buffer.from('["1","99999999999999999999"]').toString("base64url")}`,
      `cursor=${Buffer.from('["99999999999999999","1"]').toString("base64url")}`,
      `cursor=${Buffer.from('["2026-13-45 00:00:00+00","1"]').toString("base64url")}`,
      `cursor=${Buffer.from('{"a":1}').toString("base64url")}`,
      "limit=0",
      "limit=201",
      "limit=abc",
    ]) {
      const res = await owner.fetch(`/api/v1/canvas/${id}/audit?${qs}`);
      expect(res.status, qs).toBe(400);
      expect(await res.json()).toMatchObject({ code: "invalid_input" });
    }
    expect((await owner.fetch("/api/v1/canvas/zzz/audit")).status).toBe(400);
  });
});
