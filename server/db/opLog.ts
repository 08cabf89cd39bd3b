/**
 * The op log's reads (RT-3..5, H4): applied ops as `op` events, the canvas head, a replay. Events
 * come from the SQL builder the live path uses too (potentia_logged_event → potentia_op_event),
 * so a replayed event is the live one, byte for byte (RT-9).
 */
import { MAX_REPLAY_EVENTS } from "../domain/replay";
import type { OpEvent } from "../protocol/ops";
import type { SqlClient } from "./sql";

/** Applied ops of a canvas after `afterSeq`, oldest first, at most `limit`. */
export async function eventsAfter(
  db: SqlClient,
  canvasId: string,
  afterSeq: number,
  limit: number,
): Promise<OpEvent[]> {
  // Intent: the replay index (block_operations_replay_idx) in server_seq order.
  const rows = await db.query<{ event: OpEvent }>(
    `SELECT potentia_logged_event(o) AS event FROM block_operations o
      WHERE o.canvas_id = $1 AND o.status = 'success' AND o.server_seq > $2
      ORDER BY o.server_seq LIMIT $3`,
    [canvasId, afterSeq, limit],
  );
  return rows.map((r) => r.event);
}

/** The canvas's last applied server_seq (0 for none); null when the canvas is gone. */
export async function canvasHead(db: SqlClient, canvasId: string): Promise<number | null> {
  const [row] = await db.query<{ last_seq: string | number | null }>(
    "SELECT last_seq FROM canvas WHERE canvas_id = $1 AND deleted_at IS NULL",
    [canvasId],
  );
  if (!row) return null;
  return row.last_seq === null ? 0 : Number(row.last_seq);
}

/**
 * The head and the applied ops in (sinceSeq, head] — at most MAX_REPLAY_EVENTS + 1, so an
 * overflow shows — read in ONE statement, i.e. one snapshot (canvas.last_seq is written in the
 * transaction of the ops it covers, DB-3). Judge it with `replayIsComplete`. Null when the canvas
 * is gone.
 */
export async function replaySince(
  db: SqlClient,
  canvasId: string,
  sinceSeq: number,
): Promise<{ head: number; events: OpEvent[] } | null> {
  const [row] = await db.query<{ head: number; events: OpEvent[] }>(
    `SELECT coalesce(c.last_seq, 0)::float8 AS head,
            (SELECT coalesce(jsonb_agg(e.ev ORDER BY e.server_seq), '[]'::jsonb) FROM (
               SELECT o.server_seq, potentia_logged_event(o) AS ev FROM block_operations o
                WHERE o.canvas_id = c.canvas_id AND o.status = 'success'
                  AND o.server_seq > $2 AND o.server_seq <= coalesce(c.last_seq, 0)
                ORDER BY o.server_seq LIMIT $3) e) AS events
       FROM canvas c WHERE c.canvas_id = $1 AND c.deleted_at IS NULL`,
    [canvasId, sinceSeq, MAX_REPLAY_EVENTS + 1],
  );
  return row ? { head: Number(row.head), events: row.events } : null;
}
