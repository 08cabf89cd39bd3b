/**
 * Who is online in which canvas (RT-7). Each process registers the users it holds sockets for
 * under its own instance id and refreshes them; an entry not refreshed for `ttlMs` (60 s) is
 * gone, so a dead process's users disappear on their own and nothing drifts. Two
 * implementations: `memoryPresence.ts` (single-node) and `redisPresence.ts` (one sorted set per
 * canvas, idle keys expire after 7 days). Both run through `presence.contract.ts`.
 */
export interface PresenceRegistry {
  readonly kind: "memory" | "redis";
  /** Marks `userId` online in `canvasId` from this process (idempotent; also a refresh). */
  join(canvasId: string, userId: string): Promise<void>;
  /** This process no longer holds a socket of `userId` in `canvasId`. */
  leave(canvasId: string, userId: string): Promise<void>;
  /** Distinct users online in `canvasId` across all live processes. */
  online(canvasId: string): Promise<string[]>;
  close(): Promise<void>;
}

/** An entry not refreshed for this long is considered gone (RT-7: ghosts vanish within 60 s). */
export const PRESENCE_TTL_MS = 60_000;
/** How often a process re-announces its users; well inside the TTL. */
export const PRESENCE_REFRESH_MS = 20_000;
/** Idle canvases' presence keys expire (RT-7: 7 days). */
export const PRESENCE_KEY_TTL_S = 7 * 24 * 60 * 60;
