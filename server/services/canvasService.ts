/**
 * Canvases (SPEC §5 A4–A8, audit): load → decide → commit → publish. Routers call
 * `authorizeCanvas` first (API-1) and hand in what it returned; everything here trusts that.
 */
import type { CanvasAccess, CanvasRole } from "../auth/access";
import type { Principal } from "../auth/principal";
import { NOT_PENDING } from "../db/invitations";
import type { Database, SqlClient } from "../db/sql";
import { cleanDisplayName } from "../domain/displayName";
import { DomainError } from "../domain/errors";
import type { Bus } from "../ports/bus";
import { type ControlMessage, canvasControlChannel, userChannel } from "../protocol/channels";
import { once } from "./idempotency";

export interface CanvasDeps {
  db: Database;
  bus: Bus;
  onError?: (error: unknown, context: string) => void;
}

/** Who did it, for audit rows. */
export interface Actor {
  userId: string;
  ip: string | null;
  userAgent: string | null;
}

export type Settings = Record<string, unknown>;

export interface CanvasView {
  canvas_id: string;
  title: string;
  settings: Settings;
  owner_id: string;
  role: CanvasRole;
  created_at: string;
  updated_at: string;
  /** When the last block op of the canvas was applied; null before the first. */
  last_change_at: string | null;
}

type Ts = Date | string;
const iso = (t: Ts) => new Date(t).toISOString();
const isoOrNull = (t: Ts | null) => (t === null ? null : iso(t));

interface CanvasRow {
  canvas_id: string;
  title: string;
  settings: Settings;
  owner_id: string;
  role: CanvasRole;
  created_at: Ts;
  updated_at: Ts;
  last_change_at: Ts | null;
}

// The caller's canvases with their role; last_change_at is a primary-key lookup of the op that
// last_seq names (block_operations is keyed by server_seq).
const CANVAS_SELECT = `
  SELECT c.canvas_id, c.title, c.settings, c.owner_id, m.role, c.created_at, c.updated_at,
         (SELECT o.created_at FROM block_operations o WHERE o.server_seq = c.last_seq) AS last_change_at
    FROM canvas_members m JOIN canvas c ON c.canvas_id = m.canvas_id
   WHERE m.user_id = $1 AND c.deleted_at IS NULL`;

function toView(row: CanvasRow): CanvasView {
  return {
    canvas_id: row.canvas_id,
    title: row.title,
    settings: row.settings,
    owner_id: row.owner_id,
    role: row.role,
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
    last_change_at: isoOrNull(row.last_change_at),
  };
}

function readable(scopes: readonly string[], canvasId: string): boolean {
  return scopes.includes(`canvas:${canvasId}:read`) || scopes.includes("canvas:*:read");
}

/** Appends one audit row (DB-5) in the caller's transaction. */
export async function audit(
  tx: SqlClient,
  actor: Actor,
  entry: { canvasId: string; action: string; targetId?: string; detail?: Record<string, unknown> },
  startedAt: number,
): Promise<void> {
  await tx.query(
    `INSERT INTO system_audit (actor_id, canvas_id, action, target_id, status, ip, user_agent, latency_ms,
                               affected_rows, detail)
     VALUES ($1, $2, $3, $4, 'success', $5, $6, $7, 1, $8::jsonb)`,
    [
      actor.userId,
      entry.canvasId,
      entry.action,
      entry.targetId ?? null,
      actor.ip,
      actor.userAgent,
      Date.now() - startedAt,
      JSON.stringify(entry.detail ?? {}),
    ],
  );
}

/** Publishes after commit; a lost control message is logged, never turned into an error. */
export async function publishControl(
  deps: CanvasDeps,
  channels: string[],
  message: ControlMessage,
): Promise<void> {
  const json = JSON.stringify(message);
  await Promise.all(
    channels.map((channel) =>
      deps.bus.publish(channel, json).catch((error) => deps.onError?.(error, `publish ${channel}`)),
    ),
  );
}

/** One canvas as `userId` sees it (after authorizeCanvas). */
export async function getCanvas(db: SqlClient, userId: string, canvasId: string): Promise<CanvasView> {
  const [row] = await db.query<CanvasRow>(`${CANVAS_SELECT} AND c.canvas_id = $2`, [userId, canvasId]);
  if (!row) throw new DomainError("canvas_not_found");
  return toView(row);
}

/** A4: the caller's canvases (those its token may read), most recently updated first. */
export async function listCanvases(db: SqlClient, principal: Principal): Promise<CanvasView[]> {
  const rows = await db.query<CanvasRow>(`${CANVAS_SELECT} ORDER BY c.updated_at DESC, c.canvas_id`, [
    principal.userId,
  ]);
  return rows.filter((r) => readable(principal.scopes, r.canvas_id)).map(toView);
}

export interface CreateAnswer {
  status: number;
  body: CanvasView;
  replayed: boolean;
}

/**
 * A5: creates the canvas and its owner membership in one transaction, audited. With an
 * Idempotency-Key, the same key and body answer the first result again and create nothing.
 */
export async function createCanvas(
  deps: CanvasDeps,
  actor: Actor,
  input: { title: string; settings?: Settings | undefined },
  idempotencyKey: string | undefined,
): Promise<CreateAnswer> {
  const startedAt = Date.now();
  const body = { title: input.title, settings: input.settings ?? {} };
  return deps.db.transaction(async (tx) => {
    const work = async () => {
      const [row] = await tx.query<{ canvas_id: string }>(
        "INSERT INTO canvas (title, settings, owner_id) VALUES ($1, $2::jsonb, $3) RETURNING canvas_id",
        [body.title, JSON.stringify(body.settings), actor.userId],
      );
      const canvasId = row!.canvas_id;
      await tx.query("INSERT INTO canvas_members (canvas_id, user_id, role) VALUES ($1, $2, 'owner')", [
        canvasId,
        actor.userId,
      ]);
      await audit(
        tx,
        actor,
        { canvasId, action: "canvas.create", targetId: canvasId, detail: { title: body.title } },
        startedAt,
      );
      return { status: 201, body: await getCanvas(tx, actor.userId, canvasId) };
    };
    if (!idempotencyKey) return { ...(await work()), replayed: false };
    return once(tx, { userId: actor.userId, scope: "A5", key: idempotencyKey, body }, work);
  });
}

/**
 * A6: owner only (checked by the router); settings are replaced as a whole. Every member hears
 * the new title on their user channel (RT-8), so an open editor's heading follows the rename.
 */
export async function updateCanvas(
  deps: CanvasDeps,
  actor: Actor,
  canvasId: string,
  patch: { title?: string | undefined; settings?: Settings | undefined },
): Promise<CanvasView> {
  const startedAt = Date.now();
  const { view, members } = await deps.db.transaction(async (tx) => {
    const updated = await tx.query(
      `UPDATE canvas SET title = coalesce($2, title), settings = coalesce($3::jsonb, settings), updated_at = now()
        WHERE canvas_id = $1 AND deleted_at IS NULL RETURNING canvas_id`,
      [canvasId, patch.title ?? null, patch.settings === undefined ? null : JSON.stringify(patch.settings)],
    );
    if (updated.length === 0) throw new DomainError("canvas_not_found");
    await audit(
      tx,
      actor,
      {
        canvasId,
        action: "canvas.update",
        targetId: canvasId,
        detail: { fields: Object.keys(patch).filter((k) => patch[k as keyof typeof patch] !== undefined) },
      },
      startedAt,
    );
    const members = await tx.query<{ user_id: string }>(
      "SELECT user_id FROM canvas_members WHERE canvas_id = $1",
      [canvasId],
    );
    return { view: await getCanvas(tx, actor.userId, canvasId), members };
  });
  await publishControl(
    deps,
    [canvasControlChannel(canvasId), ...members.map((m) => userChannel(m.user_id))],
    { type: "canvas_updated", canvas_id: canvasId, title: view.title, updated_at: view.updated_at },
  );
  return view;
}

/**
 * A7: soft delete (owner, checked by the router). Every canvas route answers 404 afterwards
 * (authorizeCanvas ignores deleted canvases); the RT engine closes sockets on `canvas_deleted`,
 * and every member hears it on their user channel (RT-8).
 */
export async function deleteCanvas(deps: CanvasDeps, actor: Actor, canvasId: string): Promise<void> {
  const startedAt = Date.now();
  const members = await deps.db.transaction(async (tx) => {
    const deleted = await tx.query(
      "UPDATE canvas SET deleted_at = now() WHERE canvas_id = $1 AND deleted_at IS NULL RETURNING canvas_id",
      [canvasId],
    );
    if (deleted.length === 0) throw new DomainError("canvas_not_found");
    await audit(tx, actor, { canvasId, action: "canvas.delete", targetId: canvasId }, startedAt);
    return tx.query<{ user_id: string }>("SELECT user_id FROM canvas_members WHERE canvas_id = $1", [
      canvasId,
    ]);
  });
  await publishControl(
    deps,
    [canvasControlChannel(canvasId), ...members.map((m) => userChannel(m.user_id))],
    {
      type: "canvas_deleted",
      canvas_id: canvasId,
    },
  );
}

export interface PermissionsView {
  can_read: boolean;
  can_write: boolean;
  is_owner: boolean;
  role: CanvasRole;
  users: {
    user_id: string;
    name: string;
    role: CanvasRole;
    online: boolean;
    last_active_at: string | null;
  }[];
}

/**
 * A8: the caller's effective rights (role ∩ token scopes) and every member (one whose invitation
 * is pending only while online, UI-10); `online` is the presence registry's answer (RT-7), the
 * same source as the join/leave events.
 */
export async function permissions(
  db: SqlClient,
  access: CanvasAccess,
  onlineUsers: readonly string[],
): Promise<PermissionsView> {
  const online = new Set(onlineUsers);
  const rows = await db.query<{
    user_id: string;
    name: string;
    role: CanvasRole;
    last_active_at: Ts | null;
    shown: boolean;
  }>(
    `SELECT m.user_id, u.name, m.role, m.last_active_at, ${NOT_PENDING} AS shown
       FROM canvas_members m JOIN users u ON u.user_id = m.user_id
      WHERE m.canvas_id = $1
      ORDER BY CASE m.role WHEN 'owner' THEN 0 WHEN 'writer' THEN 1 ELSE 2 END, u.name, m.user_id`,
    [access.canvasId],
  );
  return {
    can_read: access.canRead,
    can_write: access.canWrite,
    is_owner: access.isOwner,
    role: access.role,
    // A member whose invitation is pending is not listed (that would say the email has an
    // account) until it is online: then it has shown itself by opening the canvas.
    users: rows
      .filter((r) => r.shown || online.has(r.user_id))
      .map((r) => ({
        user_id: r.user_id,
        name: cleanDisplayName(r.name),
        role: r.role,
        online: online.has(r.user_id),
        last_active_at: isoOrNull(r.last_active_at),
      })),
  };
}

export interface AuditItem {
  audit_id: number;
  created_at: string;
  actor_id: string | null;
  action: string;
  target_id: string | null;
  status: string;
  ip: string | null;
  user_agent: string | null;
  latency_ms: number | null;
  affected_rows: number | null;
  detail: Record<string, unknown>;
}

/**
 * Opaque audit cursor: base64url of `[created_at in microseconds since the epoch, audit_id]`, both
 * as decimal strings (exact: timestamptz has microseconds, a JS Date only milliseconds).
 */
function encodeCursor(createdAtUs: string, auditId: string): string {
  return Buffer.from(JSON.stringify([createdAtUs, auditId])).toString("base64url");
}

const BIGINT_MAX = 9_223_372_036_854_775_807n;
const isBigint = (v: unknown): v is string =>
  typeof v === "string" && /^-?\d{1,19}$/.test(v) && BigInt(v) <= BIGINT_MAX && BigInt(v) >= -BIGINT_MAX;

function decodeCursor(cursor: string): { createdAtUs: string; auditId: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    parsed = null;
  }
  // At most 16 digits of microseconds (±~317 years around 1970) stay inside PostgreSQL's timestamp range.
  if (
    Array.isArray(parsed) &&
    parsed.length === 2 &&
    isBigint(parsed[0]) &&
    /^-?\d{1,16}$/.test(parsed[0]) &&
    isBigint(parsed[1])
  ) {
    return { createdAtUs: parsed[0], auditId: parsed[1] };
  }
  throw new DomainError("invalid_input", "cursor is not valid; pass next_cursor from a previous page");
}

/** The canvas's audit rows, newest first, keyset-paginated on (created_at, audit_id). */
export async function listAudit(
  db: SqlClient,
  canvasId: string,
  page: { cursor?: string | undefined; limit: number },
): Promise<{ items: AuditItem[]; next_cursor: string | null }> {
  const after = page.cursor ? decodeCursor(page.cursor) : null;
  const rows = await db.query<
    Omit<AuditItem, "audit_id" | "created_at"> & {
      audit_id: string | number;
      created_at: Ts;
      created_at_us: string;
    }
  >(
    `SELECT audit_id::text AS audit_id, created_at,
            (extract(epoch FROM created_at) * 1000000)::bigint::text AS created_at_us,
            actor_id, action, target_id, status, ip, user_agent, latency_ms, affected_rows, detail
       FROM system_audit
      WHERE canvas_id = $1
        AND ($2::bigint IS NULL
             OR (created_at, audit_id) < ('epoch'::timestamptz + $2::bigint * interval '1 microsecond', $3::bigint))
      ORDER BY created_at DESC, audit_id DESC
      LIMIT $4`,
    [canvasId, after?.createdAtUs ?? null, after?.auditId ?? null, page.limit + 1],
  );
  const more = rows.length > page.limit;
  const items = rows.slice(0, page.limit);
  const last = items.at(-1);
  return {
    items: items.map((r) => ({
      audit_id: Number(r.audit_id),
      created_at: iso(r.created_at),
      actor_id: r.actor_id,
      action: r.action,
      target_id: r.target_id,
      status: r.status,
      ip: r.ip,
      user_agent: r.user_agent,
      latency_ms: r.latency_ms === null ? null : Number(r.latency_ms),
      affected_rows: r.affected_rows,
      detail: r.detail,
    })),
    next_cursor: more && last ? encodeCursor(last.created_at_us, String(last.audit_id)) : null,
  };
}
