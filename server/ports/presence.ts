import type { PresenceState } from "../protocol/presence";

/**
 * Who is online in which canvas (RT-7), and where each one's cursor is (RT-10). Each process
 * registers the users it holds sockets for under its own instance id and refreshes them; an
 * entry not refreshed for `ttlMs` (60 s) is gone, so a dead process's users disappear on their
 * own and nothing drifts. The latest cursor/typing state per user is kept beside it for polling
 * clients, readable by every process. Two implementations: `memoryPresence.ts` (single-node) and
 * `redisPresence.ts` (one sorted set and one hash per canvas, idle keys expire). Both run
 * through `presence.contract.ts`.
 */
export interface PresenceRegistry {
  readonly kind: "memory" | "redis";
  /** Marks `userId` online in `canvasId` from this process (idempotent; also a refresh). */
  join(canvasId: string, userId: string): Promise<void>;
  /** This process no longer holds a socket of `userId` in `canvasId`. */
  leave(canvasId: string, userId: string): Promise<void>;
  /** Distinct users online in `canvasId` across all live processes. */
  online(canvasId: string): Promise<string[]>;
  /**
   * RT-10: records `userId`'s latest state in `canvasId` (null clears it), for every process to
   * read. Writes may be coalesced — at most one per user per `PRESENCE_STATE_FLUSH_MS` reaches a
   * shared store, the last one always does — so cursor moves cost no round trip each. Best
   * effort: a store that is down loses the state (OPS-6), never the caller's call.
   */
  setState(canvasId: string, userId: string, state: PresenceState | null): void;
  /** The latest state of each user of `canvasId` that has one, set within `PRESENCE_TTL_MS`. */
  states(canvasId: string): Promise<Map<string, PresenceState>>;
  close(): Promise<void>;
}

/** An entry not refreshed for this long is considered gone (RT-7: ghosts vanish within 60 s). */
export const PRESENCE_TTL_MS = 60_000;
/** How often a process re-announces its users; well inside the TTL. */
export const PRESENCE_REFRESH_MS = 20_000;
/** Idle canvases' presence keys expire (RT-7: 7 days). */
export const PRESENCE_KEY_TTL_S = 7 * 24 * 60 * 60;
/** RT-10: a shared store gets each user's latest state at most this often (the last one always). */
export const PRESENCE_STATE_FLUSH_MS = 200;
