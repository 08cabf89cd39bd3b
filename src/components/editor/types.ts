import type { DragEvent, KeyboardEvent } from "react";
import type { BlockTree } from "@/lib/blockTree";
import type { BlockJson, SyncEngine, SyncState } from "@/lib/sync";
import type { RealtimeInfo } from "@/lib/sync/useSyncEngine";
import type { MenuAction } from "./BlockMenu";
import type { UndoControls } from "./useUndo";

// The editor's shared shapes: what its components and its actions hand each other.

/** What the editor needs of A1's `canvas`. */
export interface CanvasInfo {
  canvas_id: string;
  title: string;
  role: "owner" | "writer" | "reader";
  /** When the canvas (its title) last changed: a rename heard later is newer. */
  updated_at?: string;
}

export interface CanvasLoad {
  canvas: CanvasInfo;
  blocks: BlockJson[];
  server_seq: number;
  realtime: RealtimeInfo;
}

export interface Me {
  id: string;
  name: string;
  email: string;
}

/**
 * What a row can ask of the editor. One stable object for the whole editor, reading the latest
 * state through refs, so that rows never re-render because a callback changed identity.
 */
export interface EditorActions {
  /**
   * The textarea's value changed from `before` to `after` (user input). Returns the text the block
   * now holds (a markdown shortcut strips its trigger), which the textarea then shows.
   */
  input(id: string, before: string, after: string, caret: number): string;
  keyDown(id: string, e: KeyboardEvent<HTMLElement>): void;
  toggleTodo(id: string): void;
  menu(id: string, action: MenuAction): void;
  /** Menu items that would do nothing for this block right now. */
  unavailable(id: string): ReadonlySet<MenuAction>;
  setMenuOpen(id: string | null, refocus?: boolean): void;
  /** Rows report their focusable element so the editor can move focus to a block. */
  register(id: string, el: HTMLElement | null): void;
  registerMenuButton(id: string, el: HTMLButtonElement | null): void;
  dragStart(id: string, e: DragEvent<HTMLElement>): void;
  dragOver(id: string, e: DragEvent<HTMLElement>): void;
  drop(id: string, e: DragEvent<HTMLElement>): void;
  dragEnd(): void;
}

export interface BlockRowProps {
  block: BlockJson;
  depth: number;
  /** 0-based document position (names are 1-based). */
  index: number;
  /** Pixel offset from the virtualiser. */
  start: number;
  readOnly: boolean;
  menuOpen: boolean;
  drop: "before" | "after" | null;
  dragging: boolean;
  actions: EditorActions;
  measure: (el: HTMLElement | null) => void;
}

/** Where the caret goes when a block gets focus (UTF-16 offsets for a range). */
export type Caret = "start" | "end" | number | [number, number];

export interface DragState {
  id: string;
  over: { id: string; where: "before" | "after" } | null;
}

/** The editor's current state, read by the actions at call time. */
export interface EditorContext {
  engine: SyncEngine;
  state: SyncState;
  tree: BlockTree;
  readOnly: boolean;
  undo: UndoControls;
  drag: DragState | null;
  setMenuId(id: string | null): void;
  setDrag(drag: DragState | null): void;
  scrollToIndex(index: number): void;
}

export interface AllEditorActions extends EditorActions {
  addBlock(): void;
  /**
   * Ctrl/Cmd+Z (Shift: redo) or Ctrl+Y pressed outside any block's text (e.g. after the focused
   * block went away): undo / redo and put the caret where it belongs. True when handled.
   */
  globalKeyDown(e: globalThis.KeyboardEvent): boolean;
  /** Runs after every commit: applies a focus request whose row has just been rendered. */
  afterRender(): void;
  /** Puts focus (and the caret) in a block, scrolling it into the window first if need be. */
  focus(id: string, caret: Caret): void;
}
