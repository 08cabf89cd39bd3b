"use client";

import type { SyncEngine } from "@/lib/sync";

export interface UndoControls {
  undo(): void;
  redo(): void;
  canUndo: boolean;
  canRedo: boolean;
}

// TODO(undo): replaced by src/lib/undo.ts's UndoManager as soon as it lands.
export function useUndo(_engine: SyncEngine): UndoControls {
  return { undo() {}, redo() {}, canUndo: false, canRedo: false };
}
