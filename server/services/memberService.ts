/**
 * Canvas members (SPEC §5 members routes). Every change locks the canvas row first, so that two
 * concurrent demotions can never leave a canvas without an owner; then audits, commits, and
 * publishes on the canvas's control channel (the RT engine drops or re-scopes sockets) and on the
 * member's user channel (RT-8). Routers call `authorizeCanvas` first (API-1).
 *
 * UI-10: members are added by invitation (`server/db/invitations.ts`): the answer, the lists and
 * the audit rows are the same whether or not the email has an account. An existing account gets
 * its membership at once, but it is shown as the invitation until that user signs in.
 */
import type { CanvasRole } from "../auth/access";
import { NOT_PENDING } from "../db/invitations";
import type { SqlClient } from "../db/sql";
import { cleanDisplayName } from "../domain/displayName";
import { DomainError } from "../domain/errors";
import { type ControlMessage, canvasControlChannel, userChannel } from "../protocol/channels";
import { type Actor, audit, type CanvasDeps, publishControl } from "./canvasService";

export interface MemberView {
  user_id: string;
  email: string;
  name: string;
  role: CanvasRole;
}

/** A pending invitation, as the owner sees it (the same for an email with or without an account). */
export interface InvitationView {
  invitation_id: string;
  email: string;
  role: CanvasRole;
  created_at: string;
}

const MEMBER_SELECT = `
  SELECT m.user_id, u.email, u.name, m.role
    FROM canvas_members m JOIN users u ON u.user_id = m.user_id
   WHERE m.canvas_id = $1`;

/** Owners first, then writers, then readers; by name within a role. Pending ones are invitations. */
export async function listMembers(db: SqlClient, canvasId: string): Promise<MemberView[]> {
  const rows = await db.query<MemberView>(
    `${MEMBER_SELECT} AND ${NOT_PENDING}
     ORDER BY CASE m.role WHEN 'owner' THEN 0 WHEN 'writer' THEN 1 ELSE 2 END, u.name, m.user_id`,
    [canvasId],
  );
  return rows.map((r) => ({ ...r, name: cleanDisplayName(r.name) }));
}

/** The canvas's pending invitations, oldest first. */
export async function listInvitations(db: SqlClient, canvasId: string): Promise<InvitationView[]> {
  const rows = await db.query<Omit<InvitationView, "created_at"> & { created_at: Date | string }>(
    `SELECT invitation_id, email, role, created_at FROM canvas_invitations
      WHERE canvas_id = $1 ORDER BY created_at, email`,
    [canvasId],
  );
  return rows.map(toInvitation);
}

function toInvitation(
  row: Omit<InvitationView, "created_at"> & { created_at: Date | string },
): InvitationView {
  return { ...row, created_at: new Date(row.created_at).toISOString() };
}

/** A shown member (not one whose invitation is pending: to the owner that one is an invitation). */
async function getMember(
  tx: SqlClient,
  canvasId: string,
  userId: string,
  opts: { pendingToo?: boolean } = {},
): Promise<MemberView | undefined> {
  const [row] = await tx.query<MemberView>(
    `${MEMBER_SELECT} AND m.user_id = $2${opts.pendingToo ? "" : ` AND ${NOT_PENDING}`}`,
    [canvasId, userId],
  );
  return row;
}

/** Locks the canvas row for the rest of the transaction (serialises membership changes). */
async function lockCanvas(tx: SqlClient, canvasId: string): Promise<void> {
  const rows = await tx.query(
    "SELECT canvas_id FROM canvas WHERE canvas_id = $1 AND deleted_at IS NULL FOR NO KEY UPDATE",
    [canvasId],
  );
  if (rows.length === 0) throw new DomainError("canvas_not_found");
}

async function ownerCount(tx: SqlClient, canvasId: string): Promise<number> {
  const [row] = await tx.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM canvas_members WHERE canvas_id = $1 AND role = 'owner'",
    [canvasId],
  );
  return row?.n ?? 0;
}

/**
 * Keeps `canvas.owner_id` naming an owner: when the user it names stops being one, it passes to
 * the longest-standing remaining owner.
 */
async function reassignOwnerId(tx: SqlClient, canvasId: string): Promise<void> {
  await tx.query(
    `UPDATE canvas c SET owner_id = (
        SELECT m.user_id FROM canvas_members m WHERE m.canvas_id = c.canvas_id AND m.role = 'owner'
         ORDER BY m.created_at, m.user_id LIMIT 1)
      WHERE c.canvas_id = $1
        AND NOT EXISTS (SELECT 1 FROM canvas_members m
                         WHERE m.canvas_id = c.canvas_id AND m.user_id = c.owner_id AND m.role = 'owner')`,
    [canvasId],
  );
}

async function notify(deps: CanvasDeps, message: ControlMessage & { user_id: string }): Promise<void> {
  await publishControl(
    deps,
    [canvasControlChannel(message.canvas_id), userChannel(message.user_id)],
    message,
  );
}

/**
 * UI-10: invites an email (owner only) and answers the invitation, whether or not the email has
 * an account. An existing account is granted the membership at once (its canvas list and sockets
 * follow, RT-8); for the owner it stays the invitation until the invitee signs in.
 * `already_member` only for a member the owner can already see; `already_invited` for a pending one.
 */
export async function inviteMember(
  deps: CanvasDeps,
  actor: Actor,
  canvasId: string,
  input: { email: string; role: CanvasRole },
): Promise<InvitationView> {
  const startedAt = Date.now();
  const { invitation, granted } = await deps.db.transaction(async (tx) => {
    await lockCanvas(tx, canvasId);
    const [shown] = await tx.query(
      `SELECT 1 FROM canvas_members m JOIN users u ON u.user_id = m.user_id
        WHERE m.canvas_id = $1 AND u.email = $2 AND ${NOT_PENDING}`,
      [canvasId, input.email],
    );
    if (shown) throw new DomainError("already_member");
    const [row] = await tx.query<Omit<InvitationView, "created_at"> & { created_at: Date | string }>(
      `INSERT INTO canvas_invitations (canvas_id, email, role, invited_by) VALUES ($1, $2, $3, $4)
       ON CONFLICT (canvas_id, email) DO NOTHING RETURNING invitation_id, email, role, created_at`,
      [canvasId, input.email, input.role, actor.userId],
    );
    if (!row) throw new DomainError("already_invited");
    // An existing account gets access at once; nothing in the answer or the audit row says so.
    const [user] = await tx.query<{ user_id: string }>(
      `INSERT INTO canvas_members (canvas_id, user_id, role)
       SELECT $1, u.user_id, $3 FROM users u WHERE u.email = $2
       ON CONFLICT (canvas_id, user_id) DO NOTHING RETURNING user_id`,
      [canvasId, input.email, input.role],
    );
    await audit(
      tx,
      actor,
      { canvasId, action: "member.invite", targetId: row.invitation_id, detail: { role: input.role } },
      startedAt,
    );
    return { invitation: toInvitation(row), granted: user?.user_id };
  });
  if (granted) {
    await notify(deps, { type: "member_added", canvas_id: canvasId, user_id: granted, role: input.role });
  }
  return invitation;
}

/** The invitation, locked, and the membership already granted to its email's account, if any. */
async function lockInvitation(
  tx: SqlClient,
  canvasId: string,
  invitationId: string,
): Promise<{ invitation: InvitationView; member?: { user_id: string; role: CanvasRole } }> {
  const [row] = await tx.query<Omit<InvitationView, "created_at"> & { created_at: Date | string }>(
    `SELECT invitation_id, email, role, created_at FROM canvas_invitations
      WHERE canvas_id = $1 AND invitation_id = $2 FOR UPDATE`,
    [canvasId, invitationId],
  );
  if (!row) throw new DomainError("invitation_not_found");
  const [member] = await tx.query<{ user_id: string; role: CanvasRole }>(
    `SELECT m.user_id, m.role FROM canvas_members m JOIN users u ON u.user_id = m.user_id
      WHERE m.canvas_id = $1 AND u.email = $2`,
    [canvasId, row.email],
  );
  return { invitation: toInvitation(row), ...(member ? { member } : {}) };
}

/** Changes a pending invitation's role (owner only), and the granted membership's with it. */
export async function changeInvitationRole(
  deps: CanvasDeps,
  actor: Actor,
  canvasId: string,
  invitationId: string,
  role: CanvasRole,
): Promise<InvitationView> {
  const startedAt = Date.now();
  const { invitation, member, changed } = await deps.db.transaction(async (tx) => {
    await lockCanvas(tx, canvasId);
    const { invitation, member } = await lockInvitation(tx, canvasId, invitationId);
    if (invitation.role === role) return { invitation, member, changed: false };
    if (member?.role === "owner" && role !== "owner" && (await ownerCount(tx, canvasId)) <= 1)
      throw new DomainError("last_owner");
    await tx.query("UPDATE canvas_invitations SET role = $2 WHERE invitation_id = $1", [invitationId, role]);
    if (member) {
      await tx.query("UPDATE canvas_members SET role = $3 WHERE canvas_id = $1 AND user_id = $2", [
        canvasId,
        member.user_id,
        role,
      ]);
      await reassignOwnerId(tx, canvasId);
    }
    await audit(
      tx,
      actor,
      {
        canvasId,
        action: "member.invite_update",
        targetId: invitationId,
        detail: { from: invitation.role, to: role },
      },
      startedAt,
    );
    return { invitation: { ...invitation, role }, member, changed: true };
  });
  if (changed && member) {
    await notify(deps, { type: "member_changed", canvas_id: canvasId, user_id: member.user_id, role });
  }
  return invitation;
}

/** Withdraws a pending invitation (owner only), and the membership granted with it: access ends. */
export async function cancelInvitation(
  deps: CanvasDeps,
  actor: Actor,
  canvasId: string,
  invitationId: string,
): Promise<void> {
  const startedAt = Date.now();
  const member = await deps.db.transaction(async (tx) => {
    await lockCanvas(tx, canvasId);
    const { invitation, member } = await lockInvitation(tx, canvasId, invitationId);
    if (member?.role === "owner" && (await ownerCount(tx, canvasId)) <= 1)
      throw new DomainError("last_owner");
    await tx.query("DELETE FROM canvas_invitations WHERE invitation_id = $1", [invitationId]);
    if (member) {
      await tx.query("DELETE FROM canvas_members WHERE canvas_id = $1 AND user_id = $2", [
        canvasId,
        member.user_id,
      ]);
      await reassignOwnerId(tx, canvasId);
    }
    await audit(
      tx,
      actor,
      { canvasId, action: "member.invite_cancel", targetId: invitationId, detail: { role: invitation.role } },
      startedAt,
    );
    return member;
  });
  if (member) await notify(deps, { type: "member_removed", canvas_id: canvasId, user_id: member.user_id });
}

/** Changes a member's role (owner only); the last owner cannot be demoted. */
export async function changeRole(
  deps: CanvasDeps,
  actor: Actor,
  canvasId: string,
  userId: string,
  role: CanvasRole,
): Promise<MemberView> {
  const startedAt = Date.now();
  const { member, changed } = await deps.db.transaction(async (tx) => {
    await lockCanvas(tx, canvasId);
    const current = await getMember(tx, canvasId, userId);
    if (!current) throw new DomainError("member_not_found");
    if (current.role === role) return { member: current, changed: false };
    if (current.role === "owner" && (await ownerCount(tx, canvasId)) <= 1)
      throw new DomainError("last_owner");
    await tx.query("UPDATE canvas_members SET role = $3 WHERE canvas_id = $1 AND user_id = $2", [
      canvasId,
      userId,
      role,
    ]);
    await reassignOwnerId(tx, canvasId);
    await audit(
      tx,
      actor,
      { canvasId, action: "member.update", targetId: userId, detail: { from: current.role, to: role } },
      startedAt,
    );
    return { member: { ...current, role }, changed: true };
  });
  if (changed) await notify(deps, { type: "member_changed", canvas_id: canvasId, user_id: userId, role });
  return member;
}

/**
 * Removes a member (an owner removes anyone; any member may remove themselves, i.e. leave the
 * canvas). The last owner cannot be removed. Access ends with the commit: the next request 404s.
 */
export async function removeMember(
  deps: CanvasDeps,
  actor: Actor,
  canvasId: string,
  userId: string,
): Promise<void> {
  const startedAt = Date.now();
  await deps.db.transaction(async (tx) => {
    await lockCanvas(tx, canvasId);
    // A member whose invitation is still pending may leave; to the owner it is the invitation.
    const current = await getMember(tx, canvasId, userId, { pendingToo: userId === actor.userId });
    if (!current) throw new DomainError("member_not_found");
    if (current.role === "owner" && (await ownerCount(tx, canvasId)) <= 1)
      throw new DomainError("last_owner");
    await tx.query("DELETE FROM canvas_members WHERE canvas_id = $1 AND user_id = $2", [canvasId, userId]);
    await tx.query("DELETE FROM canvas_invitations WHERE canvas_id = $1 AND email = $2", [
      canvasId,
      current.email,
    ]);
    await reassignOwnerId(tx, canvasId);
    await audit(
      tx,
      actor,
      { canvasId, action: "member.remove", targetId: userId, detail: { role: current.role } },
      startedAt,
    );
  });
  await notify(deps, { type: "member_removed", canvas_id: canvasId, user_id: userId });
}
