import type { SqlClient } from "../db/sql";
import type { OpEvent } from "../protocol/ops";

/** Applied ops of a canvas after `afterSeq`, oldest first, as `op` events (RT-3, RT-5). */
export async function eventsAfter(
  db: SqlClient,
  canvasId: string,
  afterSeq: number,
  limit: number,
): Promise<OpEvent[]> {
  const rows = await db.query<{ event: OpEvent }>(
    `SELECT jsonb_build_object('type', 'op', 'server_seq', server_seq, 'prev_seq', prev_seq,
              'client_op_id', client_op_id, 'user_id', user_id, 'action', action, 'block_id', block_id,
              'block', result -> 'block', 'text_op', text_op) AS event
       FROM block_operations
      WHERE canvas_id = $1 AND status = 'success' AND server_seq > $2
      ORDER BY server_seq
      LIMIT $3`,
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
