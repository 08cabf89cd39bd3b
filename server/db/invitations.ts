/**
 * UI-10: invitations by email (table `canvas_invitations`, migration 20261203100000_invitations).
 * Adding a member by email always leaves an invitation, with or without an account behind the
 * email; a membership granted at once to an existing account stays out of every member list while
 * its invitation is pending, so no answer tells the owner whether the email has an account. The
 * invitation is accepted when that email registers or signs in (login, refresh).
 */
import type { SqlClient } from "./sql";

/**
 * SQL condition on `m` (canvas_members) and `u` (users): the membership has no pending invitation,
 * i.e. it may be shown. A pending one is shown as its invitation instead.
 */
export const NOT_PENDING = `NOT EXISTS (
  SELECT 1 FROM canvas_invitations i WHERE i.canvas_id = m.canvas_id AND i.email = u.email)`;

/**
 * Accepts every pending invitation of `email` on a live canvas, in the caller's transaction: each
 * becomes a membership (an existing one, granted at invitation time, is kept as it is), the
 * invitation row goes, and a `member.accept` audit row is written per canvas. Returns the canvases.
 */
export async function acceptInvitations(
  tx: SqlClient,
  user: { userId: string; email: string },
  info: { ip: string | null; userAgent: string | null },
): Promise<string[]> {
  // One statement: delete the invitations, insert the memberships, audit each acceptance.
  const rows = await tx.query<{ canvas_id: string }>(
    `WITH accepted AS (
       DELETE FROM canvas_invitations i USING canvas c
        WHERE i.email = $2 AND c.canvas_id = i.canvas_id AND c.deleted_at IS NULL
       RETURNING i.invitation_id, i.canvas_id, i.role, i.invited_by
     ), granted AS (
       INSERT INTO canvas_members (canvas_id, user_id, role)
       SELECT canvas_id, $1, role FROM accepted
       ON CONFLICT (canvas_id, user_id) DO NOTHING
     ), audited AS (
       INSERT INTO system_audit (actor_id, canvas_id, action, target_id, status, ip, user_agent,
                                 latency_ms, affected_rows, detail)
       SELECT $1, canvas_id, 'member.accept', invitation_id::text, 'success', $3, $4, 0, 1,
              jsonb_build_object('role', role, 'invited_by', invited_by)
         FROM accepted
     )
     SELECT canvas_id FROM accepted`,
    [user.userId, user.email, info.ip, info.userAgent],
  );
  return rows.map((r) => r.canvas_id);
}
