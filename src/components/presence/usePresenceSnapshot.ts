"use client";

import { useSyncExternalStore } from "react";
import type { PresenceSnapshot, PresenceTracker } from "../../lib/presence";

const noSubscribe = () => () => {};
const noSnapshot = () => null;

/** The tracker's snapshot (null before the tracker exists); re-renders on every presence change. */
export function usePresenceSnapshot(tracker: PresenceTracker | null): PresenceSnapshot | null {
  return useSyncExternalStore(
    tracker ? tracker.subscribe : noSubscribe,
    tracker ? tracker.getSnapshot : noSnapshot,
    tracker ? tracker.getSnapshot : noSnapshot,
  );
}
