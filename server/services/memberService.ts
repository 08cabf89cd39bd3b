/**
 * Canvas members (SPEC §5 members routes). Every change locks the canvas row first, so that two
 * concurrent demotions can never leave a canvas without an owner; then audits, commits, and
 * publishes on the canvas's control channel (the RT engine drops or re-scopes sockets) and on the
 * member's user channel (RT-8). Routers call `authorizeCanvas` first (API-1).
 */
import type { CanvasRole } from "../auth/access";
import type { SqlClient } from "../db/sql";
import { DomainError } from "../domain/errors";
import {
  type Actor,
  audit,
  type CanvasDeps,
  type ControlMessage,
  canvasControlChannel,
  publishControl,
  userChannel,
} from "./canvasService";

export interface MemberView {
  user_id: string;
  email: string;
  name: string;
  role: CanvasRole;
}

const MEMBER_SELECT = `
  SELECT m.user_id, u.email, u.name, m.role
    FROM canvas_members m JOIN users u ON u.user_id = m.user_id
   WHERE m.canvas_id = $1`;

/** Owners first, then writers, then readers; by name within a role. */
export async function listMembers(db: SqlClient, canvasId: string): Promise<MemberView[]> {
  return db.query<MemberView>(
    `${MEMBER_SELECT}
     ORDER BY CASE m.role WHEN 'owner' THEN 0 WHEN 'writer' THEN 1 ELSE 2 END, u.name, m.user_id`,
    [canvasId],
  );
}

async function getMember(tx: SqlClient, canvasId: string, userId: string): Promise<MemberView | undefined> {
  const [row] = await tx.query<MemberView>(`${MEMBER_SELECT} AND m.user_id = $2`, [canvasId, userId]);
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

/** Adds an existing user by email (owner only). */
export async function addMember(
  deps: CanvasDeps,
  actor: Actor,
  canvasId: string,
  input: { email: string; role: CanvasRole },
): Promise<MemberView> {
  const startedAt = Date.now();
  const member = await deps.db.transaction(async (tx) => {
    await lockCanvas(tx, canvasId);
    const [user] = await tx.query<{ user_id: string }>("SELECT user_id FROM users WHERE email = $1", [
      input.email,
    ]);
    if (!user) throw new DomainError("user_not_found");
    const inserted = await tx.query(
      `INSERT INTO canvas_members (canvas_id, user_id, role) VALUES ($1, $2, $3)
       ON CONFLICT (canvas_id, user_id) DO NOTHING RETURNING user_id`,
      [canvasId, user.user_id, input.role],
    );
    if (inserted.length === 0) throw new DomainError("already_member");
    await audit(
      tx,
      actor,
      { canvasId, action: "member.add", targetId: user.user_id, detail: { role: input.role } },
      startedAt,
    );
    return (await getMember(tx, canvasId, user.user_id))!;
  });
  await notify(deps, {
    type: "member_added",
    canvas_id: canvasId,
    user_id: member.user_id,
    role: member.role,
  });
  return member;
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
    const current = await getMember(tx, canvasId, userId);
    if (!current) throw new DomainError("member_not_found");
    if (current.role === "owner" && (await ownerCount(tx, canvasId)) <= 1)
      throw new DomainError("last_owner");
    await tx.query("DELETE FROM canvas_members WHERE canvas_id = $1 AND user_id = $2", [canvasId, userId]);
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
