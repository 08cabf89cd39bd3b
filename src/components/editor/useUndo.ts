"use client";

import { useEffect, useMemo, useState, useSyncExternalStore } from "react";
import type { SyncEngine } from "@/lib/sync";
import { type UndoCaret, UndoManager } from "@/lib/undo";

export type { UndoCaret };

export interface UndoControls {
  /** `here`: where the caret is now (a redo puts it back there). True when something was undone. */
  undo(here?: UndoCaret): boolean;
  redo(here?: UndoCaret): boolean;
  /** Where the caret belongs after the latest undo / redo (null: leave it where it is). */
  caret(): UndoCaret | null;
  /** Every op `fn` makes is one undo step; undoing it puts the caret back at `caret`. */
  transact(fn: () => void, caret?: UndoCaret): void;
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
    undo: (here) => manager?.undo(here) ?? false,
    redo: (here) => manager?.redo(here) ?? false,
    caret: () => manager?.caret() ?? null,
    transact: (fn, caret) => (manager ? manager.transact(fn, caret) : fn()),
    canUndo: flags[0] === "1",
    canRedo: flags[1] === "1",
  };
}
