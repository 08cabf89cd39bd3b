import type { Caret, EditorContext } from "../types";
import type { UndoCaret } from "../useUndo";

/** A focus request older than this is dropped rather than stealing focus later. */
const FOCUS_REQUEST_TTL_MS = 3000;

/**
 * UI-2: where focus and the caret go. Rows register their focusable element and menu button; a
 * block that is not rendered (virtualised away, or not yet rendered after a change) gets a focus
 * request that the next render applies.
 */
export interface EditorFocus {
  /** Focuses a block's text (or divider); scrolls it into the window first when it is virtualised away. */
  block(id: string, caret: Caret): void;
  /** Keeps focus (and selection) on a block whose row React is about to move or re-render. */
  keep(id: string): void;
  /** Focus (and caret) on a block once the render the current change causes is done. */
  afterRender(id: string, caret: Caret): void;
  /** A later key or input: a "keep" request is for the render the keystroke itself causes only. */
  forgetKept(): void;
  /** The caret in a block's text now, for undo (a divider or a block not shown: its start). */
  caretOf(id: string): UndoCaret;
  /** The block's element is in the page. */
  shown(id: string): boolean;
  menuButton(id: string): HTMLButtonElement | undefined;
  setMenuOpen(id: string | null, refocus?: boolean): void;
  register(id: string, el: HTMLElement | null): void;
  registerMenuButton(id: string, el: HTMLButtonElement | null): void;
  /** Runs after every commit: applies a focus request whose row has just been rendered. */
  applyRequest(): void;
}

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

export function createEditorFocus(get: () => EditorContext): EditorFocus {
  const els = new Map<string, HTMLElement>();
  const menuButtons = new Map<string, HTMLButtonElement>();
  /**
   * A focus wanted once the next render is done. "keep" requests (focus stays where it is while
   * React moves the row) are meant for the render the keystroke itself causes: any later key or
   * input drops them, so a stale saved caret can never be put back over newer typing.
   */
  let request: { id: string; caret: Caret; at: number; scrolled: boolean; keep?: boolean } | null = null;

  const focus: EditorFocus = {
    block(id, caret) {
      request = { id, caret, at: Date.now(), scrolled: false };
      const el = els.get(id);
      if (el?.isConnected) {
        request = null;
        applyFocus(el, caret);
        el.scrollIntoView({ block: "nearest" });
      } else {
        const i = get().tree.indexById.get(id);
        if (i !== undefined) {
          request.scrolled = true;
          get().scrollToIndex(i);
        }
      }
    },

    keep(id) {
      const el = els.get(id);
      const caret: Caret = el instanceof HTMLTextAreaElement ? [el.selectionStart, el.selectionEnd] : "start";
      focus.afterRender(id, caret);
    },

    afterRender(id, caret) {
      request = { id, caret, at: Date.now(), scrolled: false, keep: true };
    },

    forgetKept() {
      if (request?.keep) request = null;
    },

    caretOf(id) {
      const el = els.get(id);
      return el instanceof HTMLTextAreaElement && el.isConnected
        ? { blockId: id, start: el.selectionStart, end: el.selectionEnd }
        : { blockId: id, start: 0, end: 0 };
    },

    shown: (id) => els.get(id)?.isConnected === true,

    menuButton: (id) => menuButtons.get(id),

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
      if (request?.id === id) {
        const { caret } = request;
        request = null;
        applyFocus(el, caret);
      }
    },

    registerMenuButton(id, el) {
      if (el) menuButtons.set(id, el);
      else menuButtons.delete(id);
    },

    applyRequest() {
      const req = request;
      if (!req) return;
      if (Date.now() - req.at > FOCUS_REQUEST_TTL_MS) {
        request = null;
        return;
      }
      const el = els.get(req.id);
      if (el?.isConnected) {
        request = null;
        applyFocus(el, req.caret);
        return;
      }
      const i = get().tree.indexById.get(req.id);
      if (i !== undefined && !req.scrolled) {
        req.scrolled = true;
        get().scrollToIndex(i);
      }
    },
  };
  return focus;
}
