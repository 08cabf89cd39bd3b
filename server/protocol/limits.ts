/** Limits both sides of the protocol must agree on (SPEC §2, RT-5, RT-6). */

/** Ops in one mutate request (H2, `sync.mutate`). */
export const MAX_OPS_PER_REQUEST = 50;
/** A block's text, in characters (code points, as `char_length` counts: the CHECK on blocks.content). */
export const MAX_CONTENT_CHARS = 100_000;
/** Components of one text op. */
export const MAX_TEXT_OP_COMPONENTS = 10_000;
/** RT-5 / H4: a `since_seq` replay carries at most this many events; further behind is a resync. */
export const MAX_REPLAY_EVENTS = 1000;
/** RT-6: the largest WebSocket message the server accepts (it closes with 1009 past it). */
export const MAX_MESSAGE_BYTES = 64 * 1024;
/** A1's `realtime.poll_interval_ms`: how often a polling client calls H4 with `since_seq`. */
export const POLL_INTERVAL_MS = 2000;
