/**
 * Opaque page cursors (A2): base64url JSON of the last row's sort key. Clients must treat them
 * as opaque; the server refuses anything it did not produce in this shape (400 `invalid_cursor`).
 */

/** What a block-page cursor carries: the `y_order` of the last block on the page. */
export interface BlockCursor {
  y: string;
}

/** Keys as LEX-2 stores them (base-36, at most 10 characters). */
const Y_ORDER = /^[0-9a-z]{1,10}$/;
/** A cursor is small; anything much longer is not one of ours. */
const MAX_CURSOR_CHARS = 128;

export function encodeBlockCursor(yOrder: string): string {
  return Buffer.from(JSON.stringify({ y: yOrder } satisfies BlockCursor), "utf8").toString("base64url");
}

/** The cursor's content, or null when it is garbage or tampered with. */
export function decodeBlockCursor(cursor: string): BlockCursor | null {
  if (cursor.length === 0 || cursor.length > MAX_CURSOR_CHARS || !/^[A-Za-z0-9_-]+$/.test(cursor))
    return null;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return null;
  const keys = Object.keys(value);
  const y = (value as { y?: unknown }).y;
  if (keys.length !== 1 || typeof y !== "string" || !Y_ORDER.test(y)) return null;
  return { y };
}
