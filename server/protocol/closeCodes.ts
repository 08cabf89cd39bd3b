/**
 * Every WebSocket close code POTENTIA uses (RT-1, RT-6, SEC-5), in one place. Clients reconnect
 * on 1001/1011/1013/4408/4429 (with backoff), sign in again on 4401, and stop on 4403/4404.
 */
export const CloseCodes = {
  /** Normal closure: the client left. */
  NORMAL: 1000,
  /** The server is shutting down or restarting: reconnect (OPS-5). */
  GOING_AWAY: 1001,
  /**
   * Policy violation: repeated flooding past 10 messages/s (20 refused calls, batch elements and
   * PINGs included, within 10 s), or a protocol abuse.
   */
  POLICY_VIOLATION: 1008,
  /** A message over 64 KiB (sent by the ws library itself). */
  MESSAGE_TOO_BIG: 1009,
  /** An unexpected server error: reconnect with backoff. */
  INTERNAL_ERROR: 1011,
  /** Try again later (e.g. the server is draining). */
  TRY_AGAIN_LATER: 1013,
  /** The access token expired: refresh it and reconnect. */
  TOKEN_EXPIRED: 4401,
  /** The user lost access to this canvas (membership removed or role lowered to nothing). */
  FORBIDDEN: 4403,
  /** The canvas was deleted. */
  CANVAS_DELETED: 4404,
  /** Slow consumer: the socket's send buffer grew past its cap; reconnect with since_seq. */
  SLOW_CONSUMER: 4408,
  /**
   * SEC-5: the user already holds WS_MAX_SOCKETS_PER_USER_CANVAS sockets on this canvas or
   * WS_MAX_SOCKETS_PER_USER in all (per API process). Sent right after the upgrade; reconnect
   * with backoff (a dead socket of the same user is dropped by the heartbeat meanwhile).
   */
  TOO_MANY_SOCKETS: 4429,
} as const;
export type CloseCode = (typeof CloseCodes)[keyof typeof CloseCodes];
