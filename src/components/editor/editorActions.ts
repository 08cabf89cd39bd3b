import type { DragEvent, KeyboardEvent } from "react";
import {
  type BlockTree,
  dropPlacement,
  indentPlacement,
  moveDownPlacement,
  moveUpPlacement,
  newBlockPlacement,
  outdentPlacement,
  type Placement,
} from "@/lib/blockTree";
import type { BlockJson, SyncEngine, SyncState, UpdateFields } from "@/lib/sync";
import { textOpFromDiff } from "@/lib/textDiff";
import type { MenuAction } from "./BlockMenu";
import type { EditorActions } from "./BlockRow";
import { markdownShortcut } from "./shortcuts";
import type { UndoCaret, UndoControls } from "./useUndo";

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

/** The textarea shows a single line (no wrapping): Up/Down leave it from any column. */
function oneVisualLine(el: HTMLTextAreaElement): boolean {
  const cs = getComputedStyle(el);
  const inner = el.clientHeight - Number.parseFloat(cs.paddingTop) - Number.parseFloat(cs.paddingBottom);
  return inner < Number.parseFloat(cs.lineHeight) * 1.5;
}

/** A focus request older than this is dropped rather than stealing focus later. */
const FOCUS_REQUEST_TTL_MS = 3000;
const DRAG_MIME = "application/x-potentia-block";

/**
 * Everything a keystroke, a menu item or a drop does to the canvas. One object for the editor's
 * lifetime (rows are memoised on it); it reads the current engine state through `get()`.
 */
export function createEditorActions(get: () => EditorContext): AllEditorActions {
  const els = new Map<string, HTMLElement>();
  const menuButtons = new Map<string, HTMLButtonElement>();
  /**
   * A focus wanted once the next render is done. "keep" requests (focus stays where it is while
   * React moves the row) are meant for the render the keystroke itself causes: any later key or
   * input drops them, so a stale saved caret can never be put back over newer typing.
   */
  let focusRequest: { id: string; caret: Caret; at: number; scrolled: boolean; keep?: boolean } | null = null;
  let dragId: string | null = null;
  let over: DragState["over"] = null;

  const block = (id: string): BlockJson | undefined => get().state.byId.get(id);
  const rowAt = (id: string, delta: number): BlockJson | undefined => {
    const { tree } = get();
    const i = tree.indexById.get(id);
    return i === undefined ? undefined : tree.rows[i + delta]?.block;
  };

  function applyFocus(el: HTMLElement, caret: Caret): void {
    if (document.activeElement !== el) el.focus();
    if (el instanceof HTMLTextAreaElement) {
      const len = el.value.length;
      const [s, e] =
        caret === "start"
          ? [0, 0]
          : caret === "end"
            ? [len, len]
            : typeof caret === "number"
              ? [caret, caret]
              : caret;
      el.setSelectionRange(Math.min(s, len), Math.min(e, len));
    }
  }

  /** Focuses a block's text (or divider); scrolls it into the window first when it is virtualised away. */
  function focusBlock(id: string, caret: Caret): void {
    focusRequest = { id, caret, at: Date.now(), scrolled: false };
    const el = els.get(id);
    if (el?.isConnected) {
      focusRequest = null;
      applyFocus(el, caret);
      el.scrollIntoView({ block: "nearest" });
    } else {
      const i = get().tree.indexById.get(id);
      if (i !== undefined) {
        focusRequest.scrolled = true;
        get().scrollToIndex(i);
      }
    }
  }

  /** Keeps focus (and selection) on a block whose row React is about to move or re-render. */
  function keepFocus(id: string): void {
    const el = els.get(id);
    const caret: Caret = el instanceof HTMLTextAreaElement ? [el.selectionStart, el.selectionEnd] : "start";
    focusAfterRender(id, caret);
  }

  /** Focus (and caret) on a block once the render the current change causes is done. */
  function focusAfterRender(id: string, caret: Caret): void {
    focusRequest = { id, caret, at: Date.now(), scrolled: false, keep: true };
  }

  /** The caret in a block's text now, for undo (a divider or a block not shown: its start). */
  function caretOf(id: string): UndoCaret {
    const el = els.get(id);
    return el instanceof HTMLTextAreaElement && el.isConnected
      ? { blockId: id, start: el.selectionStart, end: el.selectionEnd }
      : { blockId: id, start: 0, end: 0 };
  }

  /** UI-5: one user gesture of several ops is one undo step; undoing it puts the caret back. */
  function gesture(id: string, fn: () => void): void {
    get().undo.transact(fn, caretOf(id));
  }

  /**
   * UI-5: undo / redo from the keyboard. The caret goes where the step says (the gesture's old
   * caret, or the text it changed back), else stays in the block it was in; if that block went
   * away with the step, it goes to a neighbour — focus never drops out of the text, so the next
   * Ctrl+Z still reaches us.
   */
  function undoRedo(redo: boolean, from: string | null): void {
    const { undo, engine } = get();
    const near = from ? [rowAt(from, -1), rowAt(from, 1)] : [];
    const here = from ? caretOf(from) : undefined;
    const done = redo ? undo.redo(here) : undo.undo(here);
    const exists = (id: string) => engine.getSnapshot().byId.has(id);
    const to = done ? undo.caret() : null;
    if (to && exists(to.blockId)) {
      focusAfterRender(to.blockId, [to.start, to.end]);
      if (!els.get(to.blockId)?.isConnected) focusBlock(to.blockId, [to.start, to.end]);
      return;
    }
    if (from && exists(from)) {
      keepFocus(from);
      return;
    }
    const [prev, next] = near;
    if (prev && exists(prev.block_id)) focusAfterRender(prev.block_id, "end");
    else if (next && exists(next.block_id)) focusAfterRender(next.block_id, "start");
  }

  function place(id: string, p: Placement | null): boolean {
    const { engine, readOnly } = get();
    const b = block(id);
    if (!p || !b || readOnly) return false;
    // A new parent and a new place are one gesture (one undo step).
    get().undo.transact(() => {
      if (b.parent_id !== p.parent_id) engine.update(id, { parent_id: p.parent_id });
      if (p.position) engine.move(id, p.position);
    });
    return true;
  }

  /**
   * A structural text change (split, merge): flushed first so the engine does not compose it with
   * the keystrokes before it, which could cancel out into an empty (invalid) text_op.
   */
  function editTo(id: string, before: string, after: string): void {
    const op = textOpFromDiff(before, after);
    if (!op) return;
    get().engine.flush();
    get().engine.editText(id, op);
  }

  function setType(id: string, type: BlockJson["type"]): void {
    const b = block(id);
    if (!b || b.type === type || get().readOnly) return;
    const fields: UpdateFields = { type };
    if (type === "todo" && typeof b.props.checked !== "boolean")
      fields.props = { ...b.props, checked: false };
    // A divider shows no text: clearing it avoids hidden content coming back on a type change.
    if (type === "divider" && b.content !== "") fields.content = "";
    get().engine.update(id, fields);
  }

  /** Deletes a block; with `lift`, its children move up to its parent instead of going with it. */
  function remove(id: string, lift: boolean): void {
    const { engine, tree } = get();
    if (lift) {
      const parent = tree.parentOf.get(id) ?? null;
      for (const child of tree.children.get(id) ?? []) engine.update(child, { parent_id: parent });
    }
    engine.delete(id);
  }

  function createAfter(id: string, type: BlockJson["type"], content: string): void {
    const { engine, tree } = get();
    const p = newBlockPlacement(tree, id);
    const newId = engine.create({
      type,
      content,
      ...(type === "todo" ? { props: { checked: false } } : {}),
      parent_id: p.parent_id,
      ...(p.position ? { position: p.position } : {}),
    });
    focusBlock(newId, "start");
  }

  function moveBy(id: string, dir: "up" | "down"): void {
    const { tree } = get();
    keepFocus(id);
    place(id, dir === "up" ? moveUpPlacement(tree, id) : moveDownPlacement(tree, id));
  }

  function indent(id: string, out: boolean): void {
    const { tree } = get();
    keepFocus(id);
    place(id, out ? outdentPlacement(tree, id) : indentPlacement(tree, id));
  }

  function onTextKey(id: string, e: KeyboardEvent<HTMLTextAreaElement>, b: BlockJson): void {
    const el = e.currentTarget;
    const { selectionStart: s, selectionEnd: end, value } = el;
    const collapsed = s === end;
    const plain = !e.altKey && !e.ctrlKey && !e.metaKey;

    if (e.key === "ArrowUp" && plain && !e.shiftKey && collapsed && !value.slice(0, s).includes("\n")) {
      const prev = rowAt(id, -1);
      if (!prev) return;
      if (s === 0 || oneVisualLine(el)) {
        e.preventDefault();
        focusBlock(prev.block_id, "end");
        return;
      }
      // On a wrapped first line the browser moves the caret to the start only from the top visual
      // line: let it, and leave the block if that is where it ended up.
      setTimeout(() => {
        if (document.activeElement === el && el.selectionStart === 0 && el.selectionEnd === 0) {
          focusBlock(prev.block_id, "end");
        }
      }, 0);
      return;
    }
    if (e.key === "ArrowDown" && plain && !e.shiftKey && collapsed && !value.slice(end).includes("\n")) {
      const next = rowAt(id, 1);
      if (!next) return;
      if (end === value.length || oneVisualLine(el)) {
        e.preventDefault();
        focusBlock(next.block_id, "start");
        return;
      }
      setTimeout(() => {
        if (document.activeElement === el && el.selectionStart === el.value.length) {
          focusBlock(next.block_id, "start");
        }
      }, 0);
      return;
    }
    if (e.key === "ArrowLeft" && plain && !e.shiftKey && collapsed && s === 0) {
      const prev = rowAt(id, -1);
      if (prev) {
        e.preventDefault();
        focusBlock(prev.block_id, "end");
      }
      return;
    }
    if (e.key === "ArrowRight" && plain && !e.shiftKey && collapsed && s === value.length) {
      const next = rowAt(id, 1);
      if (next) {
        e.preventDefault();
        focusBlock(next.block_id, "start");
      }
      return;
    }
    if (get().readOnly) return;

    if (e.key === "Tab" && plain) {
      e.preventDefault();
      if (b.type === "code" && !e.shiftKey) {
        // Two spaces; execCommand keeps the browser's own undo and fires `input` like typing.
        if (!document.execCommand("insertText", false, "  ")) {
          el.setRangeText("  ", s, end, "end");
          el.dispatchEvent(new Event("input", { bubbles: true }));
        }
        return;
      }
      indent(id, e.shiftKey);
      return;
    }
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && !e.altKey) {
      e.preventDefault();
      if (b.type === "todo") api.toggleTodo(id);
      return;
    }
    if (e.key === "Enter" && plain && !e.shiftKey) {
      if (b.type === "code") {
        // A code block takes new lines; Enter on an empty last line leaves it.
        if (collapsed && s === value.length && value.endsWith("\n")) {
          e.preventDefault();
          gesture(id, () => {
            editTo(id, value, value.slice(0, -1));
            createAfter(id, "text", "");
          });
        }
        return;
      }
      e.preventDefault();
      if (value === "" && (b.type === "todo" || b.type === "quote")) {
        setType(id, "text");
        return;
      }
      const head = value.slice(0, s);
      const tail = value.slice(end);
      // UI-5: one step — undo puts the tail back, removes the new block, and the caret returns.
      gesture(id, () => {
        editTo(id, value, head);
        createAfter(id, b.type === "todo" ? "todo" : "text", tail);
      });
      return;
    }
    if (e.key === "Backspace" && plain && !e.shiftKey && collapsed && s === 0) {
      if (b.type !== "text") {
        e.preventDefault();
        keepFocus(id);
        setType(id, "text");
        return;
      }
      const prev = rowAt(id, -1);
      if (value === "") {
        e.preventDefault();
        const next = rowAt(id, 1);
        gesture(id, () => remove(id, true));
        if (prev) focusBlock(prev.block_id, "end");
        else if (next) focusBlock(next.block_id, "start");
        return;
      }
      if (!prev) return;
      e.preventDefault();
      if (prev.type === "divider") {
        keepFocus(id);
        get().engine.delete(prev.block_id);
        return;
      }
      // Merge into the previous block, the caret at the seam; one undo step brings both back.
      const seam = prev.content.length;
      gesture(id, () => {
        editTo(prev.block_id, prev.content, prev.content + value);
        remove(id, true);
      });
      focusBlock(prev.block_id, seam);
    }
  }

  function onDividerKey(id: string, e: KeyboardEvent<HTMLElement>): void {
    const prev = rowAt(id, -1);
    const next = rowAt(id, 1);
    if (e.key === "ArrowUp" || e.key === "ArrowLeft") {
      e.preventDefault();
      if (prev) focusBlock(prev.block_id, "end");
      return;
    }
    if (e.key === "ArrowDown" || e.key === "ArrowRight") {
      e.preventDefault();
      if (next) focusBlock(next.block_id, "start");
      return;
    }
    if (get().readOnly) return;
    if (e.key === "Backspace" || e.key === "Delete") {
      e.preventDefault();
      gesture(id, () => remove(id, true));
      if (e.key === "Backspace" && prev) focusBlock(prev.block_id, "end");
      else if (next) focusBlock(next.block_id, "start");
      else if (prev) focusBlock(prev.block_id, "end");
      return;
    }
    if (e.key === "Enter") {
      e.preventDefault();
      createAfter(id, "text", "");
      return;
    }
    if (e.key === "Tab" && !e.altKey && !e.ctrlKey && !e.metaKey) {
      e.preventDefault();
      indent(id, e.shiftKey);
    }
  }

  const api: AllEditorActions = {
    input(id, before, after, caret) {
      if (focusRequest?.keep) focusRequest = null;
      const b = block(id);
      if (!b || get().readOnly) return before;
      if (b.type === "text") {
        const sc = markdownShortcut(before, after);
        if (sc) {
          // One op: type and the text without its trigger (a text op here could cancel out the
          // trigger's own keystrokes into an empty op).
          gesture(id, () => {
            get().engine.update(id, {
              type: sc.type,
              content: sc.content,
              ...(sc.props ? { props: { ...b.props, ...sc.props } } : {}),
            });
            if (sc.type === "divider") createAfter(id, "text", "");
          });
          if (sc.type !== "divider") focusBlock(id, "start");
          return sc.content;
        }
      }
      const op = textOpFromDiff(before, after, caret);
      if (op) get().engine.editText(id, op);
      return after;
    },

    keyDown(id, e) {
      if (focusRequest?.keep) focusRequest = null;
      if (e.nativeEvent.isComposing) return;
      const b = block(id);
      if (!b) return;
      const mod = e.ctrlKey || e.metaKey;
      const key = e.key.toLowerCase();
      const { readOnly } = get();
      if (!readOnly && mod && !e.altKey && (key === "z" || (key === "y" && e.ctrlKey && !e.shiftKey))) {
        // Our undo, not the textarea's: the browser's would only know this one textarea.
        e.preventDefault();
        undoRedo(key === "y" || e.shiftKey, id);
        return;
      }
      if (!readOnly && e.altKey && e.shiftKey && !mod && (e.key === "ArrowUp" || e.key === "ArrowDown")) {
        e.preventDefault();
        moveBy(id, e.key === "ArrowUp" ? "up" : "down");
        return;
      }
      if (!readOnly && mod && e.altKey && !e.shiftKey) {
        // e.code: on macOS Alt changes e.key ("¡" for Alt+1).
        const type = { Digit1: "heading", Digit2: "todo", Digit0: "text" } as const;
        const t = type[e.code as keyof typeof type];
        if (t) {
          e.preventDefault();
          keepFocus(id);
          setType(id, t);
          return;
        }
      }
      if (e.key === "Escape") {
        // A way out of the block for keyboard users (Tab is indent inside blocks).
        const button = menuButtons.get(id);
        if (button) {
          e.preventDefault();
          button.focus();
        } else (e.currentTarget as HTMLElement).blur();
        return;
      }
      const target = e.currentTarget;
      if (target instanceof HTMLTextAreaElement) onTextKey(id, e as KeyboardEvent<HTMLTextAreaElement>, b);
      else if (b.type === "divider" && target.getAttribute("role") === "group") onDividerKey(id, e);
    },

    toggleTodo(id) {
      const b = block(id);
      if (!b || get().readOnly) return;
      get().engine.update(id, { props: { ...b.props, checked: b.props.checked !== true } });
    },

    menu(id, action) {
      const { tree } = get();
      get().setMenuId(null);
      switch (action) {
        case "up":
        case "down":
          place(id, action === "up" ? moveUpPlacement(tree, id) : moveDownPlacement(tree, id));
          menuButtons.get(id)?.focus();
          return;
        case "indent":
        case "outdent":
          place(id, action === "outdent" ? outdentPlacement(tree, id) : indentPlacement(tree, id));
          menuButtons.get(id)?.focus();
          return;
        case "delete": {
          const prev = rowAt(id, -1);
          const next = rowAt(id, 1);
          remove(id, false);
          const to = prev ?? next;
          if (to) focusBlock(to.block_id, prev ? "end" : "start");
          return;
        }
        default:
          setType(id, action);
          focusBlock(id, "end");
      }
    },

    unavailable(id) {
      const { tree } = get();
      const off = new Set<MenuAction>();
      if (!moveUpPlacement(tree, id)) off.add("up");
      if (!moveDownPlacement(tree, id)) off.add("down");
      if (!indentPlacement(tree, id)) off.add("indent");
      if (!outdentPlacement(tree, id)) off.add("outdent");
      return off;
    },

    setMenuOpen(id, refocus) {
      const { setMenuId } = get();
      if (id === null && refocus) {
        for (const button of menuButtons.values()) {
          if (button.getAttribute("aria-expanded") === "true") button.focus();
        }
      }
      setMenuId(id);
    },

    register(id, el) {
      if (!el) {
        els.delete(id);
        return;
      }
      els.set(id, el);
      if (focusRequest?.id === id) {
        const { caret } = focusRequest;
        focusRequest = null;
        applyFocus(el, caret);
      }
    },

    registerMenuButton(id, el) {
      if (el) menuButtons.set(id, el);
      else menuButtons.delete(id);
    },

    focus: focusBlock,

    afterRender() {
      const req = focusRequest;
      if (!req) return;
      if (Date.now() - req.at > FOCUS_REQUEST_TTL_MS) {
        focusRequest = null;
        return;
      }
      const el = els.get(req.id);
      if (el?.isConnected) {
        focusRequest = null;
        applyFocus(el, req.caret);
        return;
      }
      const i = get().tree.indexById.get(req.id);
      if (i !== undefined && !req.scrolled) {
        req.scrolled = true;
        get().scrollToIndex(i);
      }
    },

    globalKeyDown(e) {
      if (get().readOnly || e.defaultPrevented || e.isComposing || e.altKey) return false;
      const key = e.key.toLowerCase();
      const mod = e.ctrlKey || e.metaKey;
      if (!mod || !(key === "z" || (key === "y" && e.ctrlKey && !e.shiftKey))) return false;
      // Other text fields and dialogs (the conflict panel) keep their own keys.
      const t = e.target;
      if (
        t instanceof HTMLElement &&
        (t.closest('input:not([type="checkbox"]), textarea, select, [contenteditable]') ||
          t.closest('[role="dialog"]'))
      )
        return false;
      e.preventDefault();
      undoRedo(key === "y" || e.shiftKey, null);
      return true;
    },

    addBlock() {
      const { engine, readOnly } = get();
      if (readOnly) return;
      const id = engine.create({ type: "text", parent_id: null });
      focusBlock(id, "start");
    },

    dragStart(id, e: DragEvent<HTMLElement>) {
      dragId = id;
      over = null;
      e.dataTransfer.effectAllowed = "move";
      e.dataTransfer.setData(DRAG_MIME, id);
      e.dataTransfer.setData("text/plain", block(id)?.content ?? "");
      const row = e.currentTarget.closest<HTMLElement>("[data-block-id]");
      if (row) e.dataTransfer.setDragImage(row, 16, 12);
      get().setDrag({ id, over: null });
    },

    dragOver(id, e) {
      if (!dragId) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = "move";
      const rect = e.currentTarget.getBoundingClientRect();
      const where = e.clientY < rect.top + rect.height / 2 ? "before" : "after";
      if (over?.id === id && over.where === where) return;
      over = id === dragId ? null : { id, where };
      get().setDrag({ id: dragId, over });
    },

    drop(id, e) {
      if (!dragId) return;
      e.preventDefault();
      const dragged = dragId;
      const where = over?.id === id ? over.where : "after";
      dragId = null;
      over = null;
      get().setDrag(null);
      place(dragged, dropPlacement(get().tree, dragged, id, where));
    },

    dragEnd() {
      dragId = null;
      over = null;
      get().setDrag(null);
    },
  };
  return api;
}
