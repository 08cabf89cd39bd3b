// UI-2 / RT-7 presence, framework-free: the tracker and what the React side needs from it.
export { colorFor, initialsOf, PRESENCE_COLORS } from "./avatar";
export { type PresenceEvent, parsePresenceEvent, parsePresenceList } from "./parse";
export {
  HEARTBEAT_MS,
  PRESENCE_SEND_INTERVAL_MS,
  PRESENCE_STALE_MS,
  REMOTE_TYPING_TTL_MS,
  TYPING_IDLE_MS,
  TYPING_REPEAT_MS,
} from "./timing";
export { PresenceTracker, type PresenceTrackerOptions } from "./tracker";
export type {
  CursorPoint,
  OnlineUser,
  PresenceEngine,
  PresenceEntry,
  PresenceInput,
  PresencePeer,
  PresenceSnapshot,
  PresenceState,
  PresenceUser,
} from "./types";
export type { VisibilitySource } from "./visibility";
