/** The shapes presence deals in (UI-2 / RT-7 / RT-10); the server's are in API.md and REALTIME.md. */

export interface PresenceUser {
  user_id: string;
  name: string;
}

export interface CursorPoint {
  x: number;
  y: number;
}

/** One user's live state, as `presence` frames (RT-10) and `GET …/presence` carry it. */
export interface PresenceState {
  cursor: CursorPoint | null;
  block_id: string | null;
  typing: boolean;
}

/** A user online now (`GET …/presence`), with their latest state when known. */
export interface OnlineUser extends PresenceUser {
  state?: PresenceState;
}

/** One user of a `presence` frame. */
export interface PresenceEntry extends PresenceUser, PresenceState {}

/** What `sync.presence` / H3 accept. */
export interface PresenceInput {
  cursor?: CursorPoint | null;
  block_id?: string | null;
  typing?: boolean;
}

/**
 * The part of the sync engine presence needs (SyncEngine.sendPresence / onPresence). Events are
 * typed `unknown` here on purpose: they come off the network and are parsed at the edge (parse.ts).
 */
export interface PresenceEngine {
  sendPresence(input: PresenceInput): void;
  onPresence(listener: (event: unknown) => void): () => void;
}

export interface PresencePeer {
  user_id: string;
  name: string;
  /** Stable per user (hash of user_id), from PRESENCE_COLORS. */
  color: string;
  /** px relative to the top-left of the element of `block_id`. */
  cursor: CursorPoint | null;
  block_id: string | null;
  typing: boolean;
  /** Epoch ms of the last message from this user (presence, join or the initial list). */
  lastSeen: number;
}

export interface PresenceSnapshot {
  me: PresencePeer;
  /** Everyone else, by name. */
  others: readonly PresencePeer[];
  /** The subset of `others` currently typing. */
  typing: readonly PresencePeer[];
}
