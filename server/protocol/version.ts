/**
 * The sync protocol's version (RT-9), negotiated as a WebSocket subprotocol and announced in A1's
 * `realtime.protocol`. v2 carries `op` events as deltas; v1 (whole blocks) is retired.
 */
export const PROTOCOL_VERSION = 2;
/** The subprotocol a client offers (with `bearer.<jwt>` when the token travels that way). */
export const SUBPROTOCOL = "potentia.v2";
/** Versions this server no longer speaks: a client offering only these is refused with 426. */
export const RETIRED_SUBPROTOCOLS: readonly string[] = ["potentia.v1"];
