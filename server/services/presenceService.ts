/**
 * Presence (RT-7, RT-10): what a presence call means, whichever transport carries it (H3 and
 * `sync.presence`, H6 and `sync.leave`), what a user's sockets opening and closing mean, and the
 * polling clients' view (`GET …/presence`). Ephemeral: updates go over the bus channel
 * `presence:<canvas>` and into the registry's latest-state store; the database only gets
 * `canvas_members.last_active_at`, at most once per 30 s per user and canvas.
 *
 * One per process (AppDeps.presenceService). It remembers, per canvas and user, what it checked
 * lately (name, last_active_at, the block the cursor is in), so a cursor moving 20 times a second
 * costs no database round trip per move: a new block is checked at once, the same block again
 * after BLOCK_RECHECK_MS, the rest after LAST_ACTIVE_THROTTLE_S.
 */
import type { SqlClient } from "../db/sql";
import { cleanDisplayName } from "../domain/displayName";
import { DomainError } from "../domain/errors";
import type { Bus } from "../ports/bus";
import { PRESENCE_REFRESH_MS, type PresenceRegistry } from "../ports/presence";
import { presenceChannel } from "../protocol/channels";
import type {
  JoinEvent,
  LeaveEvent,
  PresenceBusMessage,
  PresenceEntry,
  PresenceState,
} from "../protocol/presence";

/** RT-7: last_active_at is written at most this often per user and canvas. */
export const LAST_ACTIVE_THROTTLE_S = 30;
/**
 * How long a checked block stays good for the same user's next moves in it. A block never moves
 * to another canvas; this only bounds how long a deleted block can still be named as the cursor's.
 */
export const BLOCK_RECHECK_MS = 5_000;
/** Users × canvases remembered (the oldest is forgotten first); each costs ~200 bytes. */
const MAX_REMEMBERED = 50_000;

export interface PresenceUpdate {
  canvasId: string;
  userId: string;
  cursor?: { x: number; y: number } | null;
  blockId?: string | null;
  typing?: boolean;
}

export interface PresenceServiceDeps {
  db: SqlClient;
  bus: Pick<Bus, "publish">;
  registry: PresenceRegistry;
  now?: () => number;
}

/** What was checked lately for one user on one canvas. */
interface Checked {
  name: string;
  /** When name and last_active_at were last read / touched. */
  at: number;
  /** The last block checked as a live block of the canvas, and when. */
  block: string | null;
  blockAt: number;
  /** When this process last (re)announced the user in the registry; 0: not since they left. */
  joinedAt: number;
}

export class PresenceService {
  private readonly checked = new Map<string, Checked>();
  private readonly now: () => number;

  constructor(private readonly deps: PresenceServiceDeps) {
    this.now = deps.now ?? Date.now;
  }

  /**
   * H3 / `sync.presence`: the caller's whole state (missing fields are null / false) goes to
   * every subscriber of the canvas. A `blockId` that is not a live block of this canvas is refused
   * (`invalid_input`) and nothing is written or relayed: peers must never be pointed at another
   * canvas's block.
   */
  async update(update: PresenceUpdate): Promise<PresenceEntry> {
    const { canvasId, userId } = update;
    const blockId = update.blockId ?? null;
    const now = this.now();
    const known = this.recall(canvasId, userId);
    const fresh =
      known !== undefined &&
      now - known.at < LAST_ACTIVE_THROTTLE_S * 1000 &&
      (blockId === null || (blockId === known.block && now - known.blockAt < BLOCK_RECHECK_MS));
    const checked = fresh ? known : await this.check(update, now, known);
    const entry: PresenceEntry = {
      user_id: userId,
      name: checked.name,
      cursor: update.cursor ?? null,
      block_id: blockId,
      typing: update.typing ?? false,
    };
    // REST callers have no socket: their presence keeps them in the registry (for its TTL).
    if (now - checked.joinedAt >= PRESENCE_REFRESH_MS) {
      await this.deps.registry.join(canvasId, userId);
      checked.joinedAt = now;
    }
    this.deps.registry.setState(canvasId, userId, {
      cursor: entry.cursor,
      block_id: entry.block_id,
      typing: entry.typing,
    });
    await this.publish(canvasId, { type: "update", ...entry });
    return entry;
  }

  /** H6 / `sync.leave`: the caller leaves the canvas's presence (not its membership). */
  async leave(canvasId: string, userId: string): Promise<void> {
    await this.deps.registry.leave(canvasId, userId);
    await this.forget(canvasId, userId);
  }

  /** RT-7: a user's first socket on the canvas in this process opened, or is still open (refresh). */
  async connected(canvasId: string, userId: string): Promise<void> {
    await this.deps.registry.join(canvasId, userId);
    const known = this.recall(canvasId, userId);
    if (known) known.joinedAt = this.now();
  }

  /** RT-7: the user's last socket on the canvas in this process closed. */
  async disconnected(canvasId: string, userId: string): Promise<void> {
    await this.deps.registry.leave(canvasId, userId);
    await this.forget(canvasId, userId);
  }

  /** Announces users who connected as one `join` event, with their display names. */
  async announce(canvasId: string, userIds: readonly string[]): Promise<void> {
    if (userIds.length === 0) return;
    const rows = await this.deps.db.query<{ user_id: string; name: string }>(
      "SELECT user_id, name FROM users WHERE user_id = ANY($1::uuid[])",
      [userIds],
    );
    // Names are relayed without bidi controls or invisible characters (issue 9).
    const users = rows.map((r) => ({ user_id: r.user_id, name: cleanDisplayName(r.name) }));
    const event: JoinEvent = { type: "join", users };
    await this.publish(canvasId, event);
  }

  /**
   * RT-10 for polling clients: everyone online on the canvas now (RT-7's registry, every process),
   * each with their latest state (cursor null, typing false when they have sent none).
   */
  async list(canvasId: string): Promise<PresenceEntry[]> {
    // Presence is best effort (OPS-6): with Redis down nobody shows as online.
    const online = await this.deps.registry.online(canvasId).catch(() => []);
    if (online.length === 0) return [];
    const [states, rows] = await Promise.all([
      this.deps.registry.states(canvasId).catch(() => new Map<string, PresenceState>()),
      this.deps.db.query<{ user_id: string; name: string }>(
        "SELECT user_id, name FROM users WHERE user_id = ANY($1::uuid[])",
        [online],
      ),
    ]);
    const names = new Map(rows.map((r) => [r.user_id, cleanDisplayName(r.name)]));
    return online
      .filter((userId) => names.has(userId))
      .map((userId) => ({
        user_id: userId,
        name: names.get(userId) ?? "",
        ...(states.get(userId) ?? { cursor: null, block_id: null, typing: false }),
      }));
  }

  /** The user's state is gone: subscribers get `leave`, polling clients no longer see it. */
  private async forget(canvasId: string, userId: string): Promise<void> {
    const known = this.recall(canvasId, userId);
    if (known) known.joinedAt = 0;
    this.deps.registry.setState(canvasId, userId, null);
    const event: LeaveEvent = { type: "leave", user_id: userId };
    await this.publish(canvasId, event);
  }

  private publish(canvasId: string, message: PresenceBusMessage): Promise<void> {
    return this.deps.bus.publish(presenceChannel(canvasId), JSON.stringify(message));
  }

  /**
   * Intent: the block check, the throttled last_active_at write (RT-7) and the user's display
   * name in one round trip. The UPDATE's WHERE is the throttle (concurrent calls, on any process,
   * write at most once per window) and waits for the block check, so a refused call writes nothing.
   */
  private async check(update: PresenceUpdate, now: number, known: Checked | undefined): Promise<Checked> {
    const blockId = update.blockId ?? null;
    const [row] = await this.deps.db.query<{ name: string; block_ok: boolean }>(
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
      [update.canvasId, update.userId, LAST_ACTIVE_THROTTLE_S, blockId],
    );
    if (row?.block_ok !== true)
      throw new DomainError("invalid_input", "block_id is not a block of this canvas");
    const checked: Checked = {
      // Names are relayed without bidi controls or invisible characters (issue 9).
      name: cleanDisplayName(row.name),
      at: now,
      block: blockId ?? known?.block ?? null,
      blockAt: blockId !== null ? now : (known?.blockAt ?? 0),
      joinedAt: known?.joinedAt ?? 0,
    };
    this.remember(update.canvasId, update.userId, checked);
    return checked;
  }

  private recall(canvasId: string, userId: string): Checked | undefined {
    return this.checked.get(`${canvasId} ${userId}`);
  }

  private remember(canvasId: string, userId: string, checked: Checked): void {
    const key = `${canvasId} ${userId}`;
    this.checked.delete(key);
    this.checked.set(key, checked);
    if (this.checked.size > MAX_REMEMBERED) {
      const oldest = this.checked.keys().next();
      if (!oldest.done) this.checked.delete(oldest.value);
    }
  }
}
