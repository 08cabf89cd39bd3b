/**
 * UI-10 / issue 9: adding members by email is an invitation, and nothing the owner can see —
 * status, body, member list, A8, audit rows — tells whether the email has an account. An
 * invitation becomes a membership when that email registers or signs in; an existing account has
 * access at once. POST members is limited per user like AUTH (API-2, rule INVITE).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi, type TestUser } from "../../tests/support/apiHarness";
import { DEFAULT_RATE_LIMITS } from "../env";

// Everything out of the way but INVITE (its default, 10 per minute per user).
const LIMITS = JSON.stringify({
  ...Object.fromEntries(
    Object.keys(DEFAULT_RATE_LIMITS).map((id) => [id, { points: 1_000_000, duration: 1 }]),
  ),
  INVITE: DEFAULT_RATE_LIMITS.INVITE,
});

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi({ RATE_LIMITS: LIMITS });
});
afterAll(async () => api?.stop());

const email = (u: TestUser) => `${u.userId}@example.test`;
let n = 0;
const unknownEmail = () => `nobody-${Date.now()}-${n++}@example.test`;

type Json = Record<string, unknown>;
const json = async (res: Response) => (await res.json()) as Json;
/** The shape of a value: its keys and their JSON types, recursively. */
const shape = (value: unknown): unknown =>
  Array.isArray(value)
    ? value.map(shape)
    : value && typeof value === "object"
      ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shape(v)]))
      : typeof value;

async function setup() {
  const owner = await api.user("Owner");
  const canvasId = await api.canvas(owner);
  return { owner, canvasId, base: `/api/v1/canvas/${canvasId}/members` };
}
const invite = (owner: TestUser, base: string, to: string, role = "writer") =>
  owner.fetch(base, { method: "POST", json: { email: to, role } });

async function register(to: string, name = "Invitee") {
  const res = await api.anonymous("/api/v1/auth/register", {
    method: "POST",
    json: { email: to, password: "correct horse battery", name },
  });
  expect(res.status).toBe(201);
  const session = (await res.json()) as { access_token: string; user: { user_id: string } };
  return { token: session.access_token, userId: session.user.user_id };
}
const as = (token: string, pathname: string) =>
  api.anonymous(pathname, { headers: { authorization: `Bearer ${token}` } });

describe("UI-10 invitations by email", () => {
  it("UI-10: inviting an email with an account and one without answers the same status and body shape, lists the same, audits the same", async () => {
    const { owner, canvasId, base } = await setup();
    const known = await api.user("Known");
    const stranger = unknownEmail();
    const a = await invite(owner, base, email(known));
    const b = await invite(owner, base, stranger);
    expect([a.status, b.status]).toEqual([201, 201]);
    const [bodyA, bodyB] = [await json(a), await json(b)];
    expect(shape(bodyA)).toEqual(shape(bodyB));
    expect(bodyA).toMatchObject({ email: email(known), role: "writer" });
    expect(bodyB).toMatchObject({ email: stranger, role: "writer" });
    // The owner's list shows both as invitations and neither as a member; nor does A8.
    const list = await json(await owner.fetch(base));
    expect((list.members as Json[]).map((m) => m.email)).toEqual([email(owner)]);
    expect((list.invitations as Json[]).map((i) => i.email).sort()).toEqual([email(known), stranger].sort());
    expect(shape((list.invitations as Json[])[0])).toEqual(shape((list.invitations as Json[])[1]));
    const perms = await json(await owner.fetch(`/api/v1/canvas/${canvasId}/permissions`));
    expect((perms.users as Json[]).map((u) => u.user_id)).toEqual([owner.userId]);
    const audit = await api.app.deps.db.query<{ action: string; target_id: string; detail: Json }>(
      "SELECT action, target_id, detail FROM system_audit WHERE canvas_id = $1 ORDER BY audit_id",
      [canvasId],
    );
    expect(audit).toEqual([
      { action: "member.invite", target_id: bodyA.invitation_id, detail: { role: "writer" } },
      { action: "member.invite", target_id: bodyB.invitation_id, detail: { role: "writer" } },
    ]);
    // Inviting either again: the same refusal.
    const [againA, againB] = [await invite(owner, base, email(known)), await invite(owner, base, stranger)];
    expect([againA.status, againB.status]).toEqual([409, 409]);
    expect([(await json(againA)).code, (await json(againB)).code]).toEqual([
      "already_invited",
      "already_invited",
    ]);
  });

  it("UI-10: an invitation to an email without an account becomes a membership when it registers", async () => {
    const { owner, canvasId, base } = await setup();
    const to = unknownEmail();
    expect((await invite(owner, base, to.toUpperCase(), "reader")).status).toBe(201);
    const invitee = await register(to, "Newcomer");
    const mine = await json(await as(invitee.token, "/api/v1/canvas"));
    expect((mine.canvases as Json[]).map((c) => [c.canvas_id, c.role])).toEqual([[canvasId, "reader"]]);
    const list = await json(await owner.fetch(base));
    expect(list.invitations).toEqual([]);
    expect(list.members).toContainEqual({
      user_id: invitee.userId,
      email: to,
      name: "Newcomer",
      role: "reader",
    });
    const [accepted] = await api.app.deps.db.query<{ actor_id: string; detail: Json }>(
      "SELECT actor_id, detail FROM system_audit WHERE canvas_id = $1 AND action = 'member.accept'",
      [canvasId],
    );
    expect(accepted).toMatchObject({
      actor_id: invitee.userId,
      detail: { role: "reader", invited_by: owner.userId },
    });
  });

  it("UI-10: an existing account has access at once; it shows as a member once it signs in", async () => {
    const { owner, canvasId, base } = await setup();
    const to = unknownEmail();
    const invitee = await register(to);
    expect((await invite(owner, base, to, "writer")).status).toBe(201);
    // Access at once (its list, its rights), while the owner still sees the invitation.
    expect((await as(invitee.token, `/api/v1/canvas/${canvasId}`)).status).toBe(200);
    expect(((await json(await owner.fetch(base))).invitations as Json[]).map((i) => i.email)).toEqual([to]);
    const login = await api.anonymous("/api/v1/auth/login", {
      method: "POST",
      json: { email: to, password: "correct horse battery" },
    });
    expect(login.status).toBe(200);
    const list = await json(await owner.fetch(base));
    expect(list.invitations).toEqual([]);
    expect((list.members as Json[]).map((m) => [m.email, m.role])).toContainEqual([to, "writer"]);
  });

  it("UI-10: the owner changes a pending invitation's role and withdraws it; access granted with it follows", async () => {
    const { owner, canvasId, base } = await setup();
    const known = await api.user("Known");
    const invitation = await json(await invite(owner, base, email(known), "reader"));
    const path = `/api/v1/canvas/${canvasId}/invitations/${invitation.invitation_id}`;
    const patched = await owner.fetch(path, { method: "PATCH", json: { role: "writer" } });
    expect(patched.status).toBe(200);
    expect(await json(patched)).toMatchObject({ email: email(known), role: "writer" });
    expect(await json(await known.fetch(`/api/v1/canvas/${canvasId}/permissions`))).toMatchObject({
      role: "writer",
      can_write: true,
    });
    expect((await owner.fetch(path, { method: "DELETE" })).status).toBe(204);
    expect((await known.fetch(`/api/v1/canvas/${canvasId}`)).status).toBe(404);
    expect((await json(await owner.fetch(base))).invitations).toEqual([]);
    expect((await owner.fetch(path, { method: "DELETE" })).status).toBe(404);
    // A withdrawn invitation to an email without an account gives nothing at registration.
    const to = unknownEmail();
    const other = await json(await invite(owner, base, to));
    await owner.fetch(`/api/v1/canvas/${canvasId}/invitations/${other.invitation_id}`, { method: "DELETE" });
    const invitee = await register(to);
    expect((await json(await as(invitee.token, "/api/v1/canvas"))).canvases).toEqual([]);
  });

  it("UI-10: only owners see invitations; writers and readers may not invite, change or withdraw them", async () => {
    const { owner, canvasId, base } = await setup();
    const writer = await api.user("Writer");
    await api.member(canvasId, writer, "writer");
    const invitation = await json(await invite(owner, base, unknownEmail()));
    expect((await json(await writer.fetch(base))).invitations).toEqual([]);
    const path = `/api/v1/canvas/${canvasId}/invitations/${invitation.invitation_id}`;
    expect((await invite(writer, base, unknownEmail())).status).toBe(403);
    expect((await writer.fetch(path, { method: "PATCH", json: { role: "owner" } })).status).toBe(403);
    expect((await writer.fetch(path, { method: "DELETE" })).status).toBe(403);
    const stranger = await api.user();
    expect((await stranger.fetch(path, { method: "DELETE" })).status).toBe(404);
  });

  it("API-2: POST members spends the INVITE budget per user (10 per minute), whatever the emails", async () => {
    const { owner, base } = await setup();
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await invite(owner, base, unknownEmail())).status);
    expect(statuses).toEqual([...Array(10).fill(201), 429]);
    // Another owner has a budget of its own.
    const other = await setup();
    expect((await invite(other.owner, other.base, unknownEmail())).status).toBe(201);
  });
});
