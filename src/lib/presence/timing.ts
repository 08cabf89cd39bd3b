/**
 * Minimum gap between two presence sends. The brief allows 20/s, but the server allows 10
 * messages/s per socket shared with mutations (H1) and 5/s on REST (H3), so the default is 4/s;
 * remote cursors glide between updates with a CSS transition.
 */
export const PRESENCE_SEND_INTERVAL_MS = 250;
/** A remote entry is dropped after this long without any message from it. */
export const PRESENCE_STALE_MS = 60_000;
/** A remote "typing" clears after this long without a new `typing: true`. */
export const REMOTE_TYPING_TTL_MS = 4_000;
/** While we type, `typing: true` is repeated at most this often (keeps the remote TTL alive). */
export const TYPING_REPEAT_MS = 2_000;
/** `typing: false` is sent this long after our last keystroke. */
export const TYPING_IDLE_MS = 2_000;
/** We send at least this often while the page is visible, so we stay in the online list. */
export const HEARTBEAT_MS = 20_000;
