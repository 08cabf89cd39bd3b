/**
 * Presence over REST (H3, H6; RT-7): ephemeral messages on the bus channel `presence:<canvas>`,
 * plus `canvas_members.last_active_at`, written at most once per 30 s per user and canvas.
 */
import type { SqlClient } from "../db/sql";
import { cleanDisplayName } from "../domain/displayName";
import { DomainError } from "../domain/errors";
import type { Bus } from "../ports/bus";
import type { PresenceRegistry } from "../ports/presence";

export const presenceChannel = (canvasId: string) => `presence:${canvasId}`;

/** RT-7: last_active_at is written at most this often per user and canvas. */
export const LAST_ACTIVE_THROTTLE_S = 30;

export interface PresenceUpdate {
  canvasId: string;
  userId: string;
  cursor?: { x: number; y: number } | null;
  blockId?: string | null;
  typing?: boolean;
}

/** The `presence` event (RT-3) as published on `presence:<canvas>`. */
export interface PresenceEvent {
  type: "presence";
  user_id: string;
  name: string;
  cursor: { x: number; y: number } | null;
  typing: boolean;
  block_id: string | null;
}

/** The `leave` event (RT-3). */
export interface LeaveEvent {
  type: "leave";
  user_id: string;
}

export class PresenceService {
  constructor(
    private readonly db: SqlClient,
    private readonly bus: Pick<Bus, "publish">,
    /** REST callers (H3/H6) have no socket: their presence keeps them in the registry for its TTL. */
    private readonly registry?: Pick<PresenceRegistry, "join" | "leave">,
  ) {}

  /**
   * Publishes the caller's presence; touches last_active_at when it is older than 30 s. A
   * `blockId` that is not a live block of this canvas is refused (`invalid_input`) and nothing
   * is written or relayed: peers must never be pointed at another canvas's block.
   */
  async update(update: PresenceUpdate): Promise<PresenceEvent> {
    // Intent: the block check, the throttled last_active_at write (RT-7) and the user's display
    // name in the one round trip presence already costs (no extra query on the hot path). The
    // UPDATE's WHERE is the throttle (concurrent calls write at most once per window) and waits
    // for the block check, so a refused call writes nothing.
    const [row] = await this.db.query<{ name: string; block_ok: boolean }>(
      `WITH block_ok AS (
         SELECT $4::uuid IS NULL OR EXISTS (
           SELECT 1 FROM blocks b WHERE b.block_id = $4::uuid AND b.canvas_id = $1 AND b.deleted_at IS NULL
         ) AS ok),
       touched AS (
         UPDATE canvas_members SET last_active_at = now()
          WHERE canvas_id = $1 AND user_id = $2
            AND (last_active_at IS NULL OR last_active_at < now() - make_interval(secs => $3))
            AND (SELECT ok FROM block_ok)
         RETURNING 1)
       SELECT u.name, (SELECT ok FROM block_ok) AS block_ok FROM users u WHERE u.user_id = $2`,
      [update.canvasId, update.userId, LAST_ACTIVE_THROTTLE_S, update.blockId ?? null],
    );
    if (row?.block_ok !== true)
      throw new DomainError("invalid_input", "block_id is not a block of this canvas");
    const event: PresenceEvent = {
      type: "presence",
      user_id: update.userId,
      // Names are relayed without bidi controls or invisible characters (issue 9).
      name: cleanDisplayName(row?.name ?? ""),
      cursor: update.cursor ?? null,
      typing: update.typing ?? false,
      block_id: update.blockId ?? null,
    };
    await this.registry?.join(update.canvasId, update.userId);
    await this.bus.publish(presenceChannel(update.canvasId), JSON.stringify(event));
    return event;
  }

  /** H6: the caller leaves the canvas's presence (not its membership). */
  async leave(canvasId: string, userId: string): Promise<LeaveEvent> {
    const event: LeaveEvent = { type: "leave", user_id: userId };
    await this.registry?.leave(canvasId, userId);
    await this.bus.publish(presenceChannel(canvasId), JSON.stringify(event));
    return event;
  }
}
