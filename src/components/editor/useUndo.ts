"use client";

import { useEffect, useMemo, useState, useSyncExternalStore } from "react";
import type { SyncEngine } from "@/lib/sync";
import { UndoManager } from "@/lib/undo";

export interface UndoControls {
  undo(): void;
  redo(): void;
  canUndo: boolean;
  canRedo: boolean;
}

const noSubscribe = () => () => {};
const nothing = () => "00";

/**
 * UI-5: the editor's UndoManager (it records our own engine ops by itself). Built in an effect:
 * its constructor subscribes to the engine, which a render must not do (strict mode renders twice).
 */
export function useUndo(engine: SyncEngine): UndoControls {
  const [manager, setManager] = useState<UndoManager | null>(null);
  useEffect(() => {
    const m = new UndoManager(engine);
    setManager(m);
    return () => m.stop();
  }, [engine]);
  // One string so the snapshot is a stable primitive between changes.
  const [subscribe, getFlags] = useMemo(
    () =>
      manager
        ? [
            (l: () => void) => manager.subscribe(l),
            () => `${manager.canUndo() ? 1 : 0}${manager.canRedo() ? 1 : 0}`,
          ]
        : [noSubscribe, nothing],
    [manager],
  );
  const flags = useSyncExternalStore(subscribe, getFlags, nothing);
  return {
    undo: () => manager?.undo(),
    redo: () => manager?.redo(),
    canUndo: flags[0] === "1",
    canRedo: flags[1] === "1",
  };
}
