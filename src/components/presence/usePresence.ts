"use client";

import { useEffect, useMemo, useRef } from "react";
import { apiFetch } from "@/lib/api";
import {
  type OnlineUser,
  type PresenceEngine,
  PresenceTracker,
  type PresenceUser,
  parsePresenceList,
} from "@/lib/presence";
import type { ConnectionState } from "@/lib/sync";

export interface UsePresenceOptions {
  /** The editor's SyncEngine (anything with sendPresence/onPresence); null while it is being built. */
  engine: PresenceEngine | null;
  canvasId: string;
  /** The signed-in user (`session.user.id`, `session.user.name`); null until the session is known. */
  me: PresenceUser | null;
  /** The engine's connection state: after a reconnect the online list is reloaded (missed join/leave). */
  connection?: ConnectionState;
}

/**
 * How often a polling client reloads the online list, which carries everyone's latest cursor and
 * typing state (RT-10: polling clients get presence through REST): as often as it polls H4.
 */
const ONLINE_POLL_MS = 2_000;

/** `GET …/presence`: who is online now, each with their latest state, with the user's token. */
async function fetchOnlineUsers(canvasId: string): Promise<OnlineUser[]> {
  const res = await apiFetch(`/api/v1/canvas/${encodeURIComponent(canvasId)}/presence`);
  if (!res.ok) throw new Error(`online list: HTTP ${res.status}`);
  return parsePresenceList(await res.json());
}

/**
 * Owns a PresenceTracker for the editor's lifetime: built when engine and user are known,
 * started on mount, stopped (cursor cleared for the others) on unmount or when they change.
 */
export function usePresence({
  engine,
  canvasId,
  me,
  connection,
}: UsePresenceOptions): PresenceTracker | null {
  const userId = me?.user_id;
  const name = me?.name ?? "";
  // The constructor has no side effects (timers and listeners start in start()), so memoising
  // it is safe under strict mode's double render.
  const tracker = useMemo(
    () =>
      engine && userId
        ? new PresenceTracker({
            engine,
            me: { user_id: userId, name },
            fetchOnline: () => fetchOnlineUsers(canvasId),
            // Presence is best effort: a failed online list must not put noise in the console.
            onError: () => {},
          })
        : null,
    [engine, canvasId, userId, name],
  );

  useEffect(() => {
    if (!tracker) return;
    tracker.start();
    return () => tracker.stop();
  }, [tracker]);

  const previous = useRef(connection);
  useEffect(() => {
    const was = previous.current;
    previous.current = connection;
    if (!tracker || was === connection || (connection !== "live" && connection !== "polling")) return;
    // The start announcement may have found no transport yet (sends are fire-and-forget): say
    // hello once connected, so REST (polling) clients join the online list without waiting 20 s.
    tracker.announce();
    // Join/leave events may have been missed while the connection was down (or before the first
    // subscription started).
    if (was === "reconnecting" || was === "offline") tracker.refresh();
  }, [connection, tracker]);

  // H4 polling carries no presence events: the presence list is then the news of who is online,
  // where their cursors are and who types (and keeps them from being dropped as stale after 60 s).
  useEffect(() => {
    if (!tracker || connection !== "polling") return;
    const timer = setInterval(() => tracker.refresh(), ONLINE_POLL_MS);
    return () => clearInterval(timer);
  }, [connection, tracker]);

  return tracker;
}
