import type { SqlClient } from "../db/sql";
import { DomainError } from "../domain/errors";
import { hasCanvasScope } from "../domain/scopes";
import type { Principal } from "./principal";

export type CanvasRole = "owner" | "writer" | "reader";
export type CanvasNeed = "read" | "write" | "owner";

export interface CanvasAccess {
  canvasId: string;
  role: CanvasRole;
  canRead: true;
  canWrite: boolean;
  isOwner: boolean;
}

const RANK: Record<CanvasRole, number> = { reader: 1, writer: 2, owner: 3 };
const NEED_RANK: Record<CanvasNeed, number> = { read: 1, write: 2, owner: 3 };

/**
 * API-1: the one object-level check every canvas procedure calls. The effective right is the
 * member's role ∩ the token's scopes (AUTH-2). A non-member — or a token without read scope
 * for this canvas — gets 404, exactly as for a canvas that does not exist; a member without
 * the needed right gets 403.
 */
export async function authorizeCanvas(
  db: SqlClient,
  principal: Principal,
  canvasId: string,
  need: CanvasNeed,
): Promise<CanvasAccess> {
  const [row] = await db.query<{ role: CanvasRole }>(
    `SELECT m.role FROM canvas_members m JOIN canvas c ON c.canvas_id = m.canvas_id
      WHERE m.canvas_id = $1 AND m.user_id = $2 AND c.deleted_at IS NULL`,
    [canvasId, principal.userId],
  );
  if (!row || !hasCanvasScope(principal.scopes, canvasId, "read")) throw new DomainError("canvas_not_found");
  const scopedWrite = hasCanvasScope(principal.scopes, canvasId, "write");
  const rank = scopedWrite ? RANK[row.role] : Math.min(RANK[row.role], RANK.reader);
  if (rank < NEED_RANK[need]) {
    throw new DomainError(
      "forbidden",
      need === "owner" ? "only the canvas owner may do this" : "you may not write to this canvas",
    );
  }
  return {
    canvasId,
    role: row.role,
    canRead: true,
    canWrite: rank >= RANK.writer,
    isOwner: rank >= RANK.owner,
  };
}
