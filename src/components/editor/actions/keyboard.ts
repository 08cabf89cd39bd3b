import type { KeyboardEvent } from "react";
import type { BlockJson } from "@/lib/sync";
import type { EditorActions, EditorContext } from "../types";
import type { BlockCommands } from "./blockCommands";
import type { EditorFocus } from "./focus";

/** The textarea shows a single line (no wrapping): Up/Down leave it from any column. */
function oneVisualLine(el: HTMLTextAreaElement): boolean {
  const cs = getComputedStyle(el);
  const inner = el.clientHeight - Number.parseFloat(cs.paddingTop) - Number.parseFloat(cs.paddingBottom);
  return inner < Number.parseFloat(cs.lineHeight) * 1.5;
}

/**
 * UI-2 / UI-5: the editor's keys (docs/UI.md "Keyboard"): moving between blocks, Enter and
 * Backspace as splits, merges and type changes, indent, move, type shortcuts, Escape out of a
 * block, and undo / redo — also from outside the blocks.
 */
export function createKeyboard(
  get: () => EditorContext,
  focus: EditorFocus,
  cmd: BlockCommands,
): Pick<EditorActions, "keyDown"> & { globalKeyDown(e: globalThis.KeyboardEvent): boolean } {
  /**
   * UI-5: undo / redo from the keyboard. The caret goes where the step says (the gesture's old
   * caret, or the text it changed back), else stays in the block it was in; if that block went
   * away with the step, it goes to a neighbour — focus never drops out of the text, so the next
   * Ctrl+Z still reaches us.
   */
  function undoRedo(redo: boolean, from: string | null): void {
    const { undo, engine } = get();
    const near = from ? [cmd.rowAt(from, -1), cmd.rowAt(from, 1)] : [];
    const here = from ? focus.caretOf(from) : undefined;
    const done = redo ? undo.redo(here) : undo.undo(here);
    const exists = (id: string) => engine.getSnapshot().byId.has(id);
    const to = done ? undo.caret() : null;
    if (to && exists(to.blockId)) {
      focus.afterRender(to.blockId, [to.start, to.end]);
      if (!focus.shown(to.blockId)) focus.block(to.blockId, [to.start, to.end]);
      return;
    }
    if (from && exists(from)) {
      focus.keep(from);
      return;
    }
    const [prev, next] = near;
    if (prev && exists(prev.block_id)) focus.afterRender(prev.block_id, "end");
    else if (next && exists(next.block_id)) focus.afterRender(next.block_id, "start");
  }

  function onTextKey(id: string, e: KeyboardEvent<HTMLTextAreaElement>, b: BlockJson): void {
    const el = e.currentTarget;
    const { selectionStart: s, selectionEnd: end, value } = el;
    const collapsed = s === end;
    const plain = !e.altKey && !e.ctrlKey && !e.metaKey;

    if (e.key === "ArrowUp" && plain && !e.shiftKey && collapsed && !value.slice(0, s).includes("\n")) {
      const prev = cmd.rowAt(id, -1);
      if (!prev) return;
      if (s === 0 || oneVisualLine(el)) {
        e.preventDefault();
        focus.block(prev.block_id, "end");
        return;
      }
      // On a wrapped first line the browser moves the caret to the start only from the top visual
      // line: let it, and leave the block if that is where it ended up.
      setTimeout(() => {
        if (document.activeElement === el && el.selectionStart === 0 && el.selectionEnd === 0) {
          focus.block(prev.block_id, "end");
        }
      }, 0);
      return;
    }
    if (e.key === "ArrowDown" && plain && !e.shiftKey && collapsed && !value.slice(end).includes("\n")) {
      const next = cmd.rowAt(id, 1);
      if (!next) return;
      if (end === value.length || oneVisualLine(el)) {
        e.preventDefault();
        focus.block(next.block_id, "start");
        return;
      }
      setTimeout(() => {
        if (document.activeElement === el && el.selectionStart === el.value.length) {
          focus.block(next.block_id, "start");
        }
      }, 0);
      return;
    }
    if (e.key === "ArrowLeft" && plain && !e.shiftKey && collapsed && s === 0) {
      const prev = cmd.rowAt(id, -1);
      if (prev) {
        e.preventDefault();
        focus.block(prev.block_id, "end");
      }
      return;
    }
    if (e.key === "ArrowRight" && plain && !e.shiftKey && collapsed && s === value.length) {
      const next = cmd.rowAt(id, 1);
      if (next) {
        e.preventDefault();
        focus.block(next.block_id, "start");
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
      cmd.indent(id, e.shiftKey);
      return;
    }
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && !e.altKey) {
      e.preventDefault();
      if (b.type === "todo") cmd.toggleTodo(id);
      return;
    }
    if (e.key === "Enter" && plain && !e.shiftKey) {
      if (b.type === "code") {
        // A code block takes new lines; Enter on an empty last line leaves it.
        if (collapsed && s === value.length && value.endsWith("\n")) {
          e.preventDefault();
          cmd.gesture(id, () => {
            cmd.editTo(id, value, value.slice(0, -1));
            cmd.createAfter(id, "text", "");
          });
        }
        return;
      }
      e.preventDefault();
      if (value === "" && (b.type === "todo" || b.type === "quote")) {
        cmd.setType(id, "text");
        return;
      }
      const head = value.slice(0, s);
      const tail = value.slice(end);
      // UI-5: one step — undo puts the tail back, removes the new block, and the caret returns.
      cmd.gesture(id, () => {
        cmd.editTo(id, value, head);
        cmd.createAfter(id, b.type === "todo" ? "todo" : "text", tail);
      });
      return;
    }
    if (e.key === "Backspace" && plain && !e.shiftKey && collapsed && s === 0) {
      if (b.type !== "text") {
        e.preventDefault();
        focus.keep(id);
        cmd.setType(id, "text");
        return;
      }
      const prev = cmd.rowAt(id, -1);
      if (value === "") {
        e.preventDefault();
        const next = cmd.rowAt(id, 1);
        cmd.gesture(id, () => cmd.remove(id, true));
        if (prev) focus.block(prev.block_id, "end");
        else if (next) focus.block(next.block_id, "start");
        return;
      }
      if (!prev) return;
      e.preventDefault();
      if (prev.type === "divider") {
        focus.keep(id);
        get().engine.delete(prev.block_id);
        return;
      }
      // Merge into the previous block, the caret at the seam; one undo step brings both back.
      const seam = prev.content.length;
      cmd.gesture(id, () => {
        cmd.editTo(prev.block_id, prev.content, prev.content + value);
        cmd.remove(id, true);
      });
      focus.block(prev.block_id, seam);
    }
  }

  function onDividerKey(id: string, e: KeyboardEvent<HTMLElement>): void {
    const prev = cmd.rowAt(id, -1);
    const next = cmd.rowAt(id, 1);
    if (e.key === "ArrowUp" || e.key === "ArrowLeft") {
      e.preventDefault();
      if (prev) focus.block(prev.block_id, "end");
      return;
    }
    if (e.key === "ArrowDown" || e.key === "ArrowRight") {
      e.preventDefault();
      if (next) focus.block(next.block_id, "start");
      return;
    }
    if (get().readOnly) return;
    if (e.key === "Backspace" || e.key === "Delete") {
      e.preventDefault();
      cmd.gesture(id, () => cmd.remove(id, true));
      if (e.key === "Backspace" && prev) focus.block(prev.block_id, "end");
      else if (next) focus.block(next.block_id, "start");
      else if (prev) focus.block(prev.block_id, "end");
      return;
    }
    if (e.key === "Enter") {
      e.preventDefault();
      cmd.createAfter(id, "text", "");
      return;
    }
    if (e.key === "Tab" && !e.altKey && !e.ctrlKey && !e.metaKey) {
      e.preventDefault();
      cmd.indent(id, e.shiftKey);
    }
  }

  return {
    keyDown(id: string, e: KeyboardEvent<HTMLElement>) {
      focus.forgetKept();
      if (e.nativeEvent.isComposing) return;
      const b = cmd.block(id);
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
        cmd.moveBy(id, e.key === "ArrowUp" ? "up" : "down");
        return;
      }
      if (!readOnly && mod && e.altKey && !e.shiftKey) {
        // e.code: on macOS Alt changes e.key ("¡" for Alt+1).
        const type = { Digit1: "heading", Digit2: "todo", Digit0: "text" } as const;
        const t = type[e.code as keyof typeof type];
        if (t) {
          e.preventDefault();
          focus.keep(id);
          cmd.setType(id, t);
          return;
        }
      }
      if (e.key === "Escape") {
        // A way out of the block for keyboard users (Tab is indent inside blocks).
        const button = focus.menuButton(id);
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

    globalKeyDown(e: globalThis.KeyboardEvent) {
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
  };
}
