"use client";

import { type RefObject, useEffect, useLayoutEffect, useRef } from "react";
import type { Caret } from "./types";

/** Where a neighbour gets focus when the focused block went away: the previous one, else the next. */
export function rescueTarget(
  order: readonly string[],
  lost: string,
  exists: (id: string) => boolean,
): { id: string; caret: Caret } | null {
  const at = order.indexOf(lost);
  if (at < 0) return null;
  for (let i = at - 1; i >= 0; i--) {
    const id = order[i] as string;
    if (exists(id)) return { id, caret: "end" };
  }
  for (let i = at + 1; i < order.length; i++) {
    const id = order[i] as string;
    if (exists(id)) return { id, caret: "start" };
  }
  return null;
}

/**
 * When the block holding focus disappears without this editor having moved focus first (someone
 * else deleted it, or deleted its parent), focus goes to its neighbour — the previous block with
 * the caret at its end, else the next one at its start — instead of dropping to the page, where
 * the next keystroke would go nowhere. The editor's own deletes move focus before the row goes,
 * so they never reach this. `order` is the document order of this render, `exists` asks the
 * current state.
 */
export function useFocusRescue(
  listRef: RefObject<HTMLElement | null>,
  order: readonly string[],
  exists: (id: string) => boolean,
  focus: (id: string, caret: Caret) => void,
): void {
  /** The block focus is in (its text, divider or buttons), null when focus is elsewhere. */
  const focused = useRef<string | null>(null);
  /** The order as the previous render showed it: where the lost block's neighbours were. */
  const shown = useRef<readonly string[]>(order);

  useEffect(() => {
    const list = listRef.current;
    if (!list) return;
    const blockOf = (t: EventTarget | null) =>
      t instanceof HTMLElement ? (t.closest<HTMLElement>("[data-block-id]")?.dataset.blockId ?? null) : null;
    const onFocusIn = (e: FocusEvent) => {
      focused.current = blockOf(e.target);
    };
    const onFocusOut = (e: FocusEvent) => {
      const left = blockOf(e.target);
      const el = e.target as HTMLElement;
      // Decided after the event: a row removed from the page is no decision of the user's (keep
      // it, to rescue); focus the user moved out of the list (still connected) forgets it.
      setTimeout(() => {
        if (el.isConnected && focused.current === left && blockOf(document.activeElement) !== left) {
          focused.current = null;
        }
      }, 0);
    };
    list.addEventListener("focusin", onFocusIn);
    list.addEventListener("focusout", onFocusOut);
    return () => {
      list.removeEventListener("focusin", onFocusIn);
      list.removeEventListener("focusout", onFocusOut);
    };
  }, [listRef]);

  // After every commit (and after the editor's own pending focus requests were applied).
  useLayoutEffect(() => {
    const before = shown.current;
    shown.current = order;
    const lost = focused.current;
    if (!lost || exists(lost)) return;
    focused.current = null;
    // Focus already went somewhere on purpose (a dialog, the toolbar, another block).
    const active = document.activeElement;
    if (active && active !== document.body) return;
    const to = rescueTarget(before, lost, exists);
    if (to) focus(to.id, to.caret);
  });
}
