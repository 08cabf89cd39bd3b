/**
 * Reads of a canvas's state for the REST side of sync (H4, A1, A2, A3). Every read that pairs
 * blocks or events with `server_seq` is ONE SQL statement: a statement sees one snapshot even
 * under READ COMMITTED (and through PgBouncer), and canvas.last_seq is written in the same
 * transaction as the blocks it covers (DB-3), so a client that replays from the returned
 * server_seq misses nothing and sees nothing twice (RT-5).
 */
import type { CanvasRole } from "../auth/access";
import { replaySince } from "../db/opLog";
import type { SqlClient } from "../db/sql";
import { decodeBlockCursor, encodeBlockCursor } from "../domain/cursor";
import { DomainError } from "../domain/errors";
import { replayIsComplete } from "../domain/replay";
import type { BlockOut, CanvasOut, OpEventOut, SnapshotOut } from "../protocol/rest";

/** The canvas as JSON (timestamps as PostgreSQL's ISO 8601 text, like block_json). */
const CANVAS_JSON = `jsonb_build_object('canvas_id', c.canvas_id, 'title', c.title, 'settings', c.settings,
  'owner_id', c.owner_id, 'created_at', c.created_at, 'updated_at', c.updated_at)`;

/** Live blocks of canvas $1 in document order (LEX-0), as one JSON array. */
const LIVE_BLOCKS_JSON = `(SELECT coalesce(jsonb_agg(block_json(b) ORDER BY b.y_order COLLATE "C"), '[]'::jsonb)
   FROM blocks b WHERE b.canvas_id = c.canvas_id AND b.deleted_at IS NULL)`;

export interface CanvasState {
  canvas: CanvasOut;
  blocks: BlockOut[];
  /** canvas.last_seq: server_seq of the last applied op; 0 before the first op. */
  serverSeq: number;
}

export interface BlockPage {
  items: BlockOut[];
  nextCursor: string | null;
}

/** An invalid request as a 400 problem with its own stable code. */
function badRequest(code: string, message: string): DomainError {
  return new DomainError("invalid_input", message, { code });
}

export class SnapshotService {
  constructor(private readonly db: SqlClient) {}

  /** Canvas, live blocks and server_seq, read in one statement (one snapshot). */
  async state(canvasId: string, role: CanvasRole): Promise<CanvasState> {
    // Intent: the canvas row, its live blocks and last_seq as of one snapshot.
    const [row] = await this.db.query<{ canvas: Omit<CanvasOut, "role">; blocks: BlockOut[]; seq: number }>(
      `SELECT ${CANVAS_JSON} AS canvas, ${LIVE_BLOCKS_JSON} AS blocks, coalesce(c.last_seq, 0)::float8 AS seq
         FROM canvas c WHERE c.canvas_id = $1 AND c.deleted_at IS NULL`,
      [canvasId],
    );
    if (!row) throw new DomainError("canvas_not_found");
    return { canvas: { ...row.canvas, role }, blocks: row.blocks, serverSeq: Number(row.seq) };
  }

  /**
   * H4: a replay of the applied ops after `sinceSeq` when the op log still holds all of them and
   * there are at most MAX_REPLAY_EVENTS; otherwise (or without `sinceSeq`) a full snapshot.
   */
  async snapshot(canvasId: string, role: CanvasRole, sinceSeq: number | undefined): Promise<SnapshotOut> {
    if (sinceSeq !== undefined) {
      const replay = await this.replay(canvasId, sinceSeq);
      if (replay) return replay;
    }
    const state = await this.state(canvasId, role);
    return { mode: "snapshot", canvas: state.canvas, blocks: state.blocks, server_seq: state.serverSeq };
  }

  /** The replay after `sinceSeq`, or null when the log cannot provide it gap-free (RT-5's rule). */
  private async replay(canvasId: string, sinceSeq: number): Promise<SnapshotOut | null> {
    const replay = await replaySince(this.db, canvasId, sinceSeq);
    if (!replay) throw new DomainError("canvas_not_found");
    if (sinceSeq > replay.head) {
      throw badRequest(
        "since_seq_ahead",
        `since_seq ${sinceSeq} is ahead of this canvas (server_seq ${replay.head})`,
      );
    }
    if (!replayIsComplete(sinceSeq, replay.events, replay.head)) return null;
    return { mode: "replay", events: replay.events as OpEventOut[], server_seq: replay.head };
  }

  /** A2: one page of live blocks in document order, keyset-paginated on y_order. */
  async page(canvasId: string, limit: number, cursor: string | undefined): Promise<BlockPage> {
    let after: string | null = null;
    if (cursor !== undefined) {
      const decoded = decodeBlockCursor(cursor);
      if (!decoded) throw badRequest("invalid_cursor", "cursor is not a cursor this API returned");
      after = decoded.y;
    }
    // Intent: the next limit+1 live blocks after the cursor's key (blocks_canvas_live_order_idx).
    const rows = await this.db.query<{ block: BlockOut }>(
      `SELECT block_json(b) AS block FROM blocks b
        WHERE b.canvas_id = $1 AND b.deleted_at IS NULL AND ($2::text IS NULL OR b.y_order > $2::text)
        ORDER BY b.y_order COLLATE "C" LIMIT $3`,
      [canvasId, after, limit + 1],
    );
    const items = rows.slice(0, limit).map((r) => r.block);
    const last = items[items.length - 1];
    const nextCursor = rows.length > limit && last?.y_order ? encodeBlockCursor(last.y_order) : null;
    return { items, nextCursor };
  }

  /** A3: one live block of this canvas. */
  async block(canvasId: string, blockId: string): Promise<BlockOut> {
    const [row] = await this.db.query<{ block: BlockOut }>(
      `SELECT block_json(b) AS block FROM blocks b
        WHERE b.block_id = $1 AND b.canvas_id = $2 AND b.deleted_at IS NULL`,
      [blockId, canvasId],
    );
    if (!row)
      throw new DomainError("canvas_not_found", "no such block on this canvas", { code: "block_not_found" });
    return row.block;
  }
}
