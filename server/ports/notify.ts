/**
 * Database notifications (LISTEN/NOTIFY), e.g. `rebalance_needed` for the rebalance worker
 * (WRK-2). Two implementations: `pgNotify.ts` (PostgreSQL, one dedicated session on the
 * direct connection, never through PgBouncer: LISTEN is session state) and `pgliteNotify.ts`
 * (embedded PGlite, which only sees NOTIFY from its own process: fine for single-node).
 * Both run through `notify.contract.ts`.
 *
 * Notifications sent while the PostgreSQL session was down are lost (PostgreSQL does not
 * keep them for a session that is gone): consumers must treat them as wake-up hints.
 */
export type NotifyHandler = (payload: string) => void;

export interface Notify {
  readonly kind: "pglite" | "postgres";
  /** Resolves once LISTEN is active (or, with the database down, registered for when it returns). */
  listen(channel: string, handler: NotifyHandler): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export class NotifyClosedError extends Error {
  constructor() {
    super("notify is closed");
    this.name = "NotifyClosedError";
  }
}

/**
 * Quotes a channel name as a SQL identifier, so any case and punctuation is kept and
 * nothing can be injected. Refused: the empty name, NUL, names past PostgreSQL's 63-byte
 * identifier limit (they would be silently truncated, so their notifications would never
 * match), and `"` (PGlite's listen() maps quoted names back without unescaping it).
 */
export function quoteChannel(channel: string): string {
  if (channel === "") throw new TypeError("notify channel must not be empty");
  if (Buffer.byteLength(channel, "utf8") > 63) throw new TypeError("notify channel is longer than 63 bytes");
  if (/["\0]/.test(channel)) throw new TypeError("notify channel must not contain '\"' or NUL");
  return `"${channel}"`;
}
