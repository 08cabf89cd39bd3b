"use client";

import { type FormEvent, memo, useCallback, useEffect, useLayoutEffect, useRef } from "react";
import { BLOCK_TYPE_LABELS } from "@/lib/conflictDiff";
import type { BlockJson } from "@/lib/sync";
import { transformCaret } from "@/lib/textDiff";
import { BlockMenu } from "./BlockMenu";
import styles from "./editor.module.css";
import { sameRow } from "./sameRow";
import type { BlockRowProps } from "./types";

export type BlockType = BlockJson["type"];

/** The names in "Todo block 3" (shared with the conflict panel, which names its block the same way). */
export const TYPE_LABEL: Record<BlockType, string> = BLOCK_TYPE_LABELS;

const PLACEHOLDER: Partial<Record<BlockType, string>> = {
  text: "Type something…",
  heading: "Heading",
  todo: "To-do",
  code: "Code",
  quote: "Quote",
};

const INDENT_PX = 28;

function resize(el: HTMLTextAreaElement): void {
  // Auto-grow: shrink first so deleted lines give their height back.
  el.style.height = "auto";
  el.style.height = `${el.scrollHeight}px`;
}

function BlockRowImpl(props: BlockRowProps) {
  const { block, depth, index, start, readOnly, menuOpen, drop, dragging, actions, measure } = props;
  const n = index + 1;
  const id = block.block_id;
  const textRef = useRef<HTMLTextAreaElement | null>(null);
  /** The text the textarea shows and the engine agrees with: diffs are taken against it. */
  const shown = useRef(block.content);
  const composing = useRef(false);

  const setTextRef = useCallback(
    (el: HTMLTextAreaElement | null) => {
      textRef.current = el;
      if (el) {
        el.value = shown.current;
        resize(el);
      }
      actions.register(id, el);
    },
    [actions, id],
  );

  // A change that did not come from this textarea (remote op, undo, conflict resolution): put it
  // in without moving the caret away from where the user is typing.
  useLayoutEffect(() => {
    const el = textRef.current;
    if (!el || composing.current) return;
    if (el.value === block.content) {
      shown.current = block.content;
      return;
    }
    const before = el.value;
    const focused = document.activeElement === el;
    const selStart = el.selectionStart;
    const selEnd = el.selectionEnd;
    el.value = block.content;
    shown.current = block.content;
    if (focused) {
      el.setSelectionRange(
        transformCaret(before, block.content, selStart),
        transformCaret(before, block.content, selEnd),
      );
    }
    resize(el);
  }, [block.content]);

  // A narrower column wraps more lines: grow again when the window width changes.
  useEffect(() => {
    let width = window.innerWidth;
    const onResize = () => {
      if (window.innerWidth === width) return;
      width = window.innerWidth;
      if (textRef.current) resize(textRef.current);
    };
    window.addEventListener("resize", onResize);
    return () => window.removeEventListener("resize", onResize);
  }, []);

  const onInput = (e: FormEvent<HTMLTextAreaElement>) => {
    const el = e.currentTarget;
    if (composing.current) {
      resize(el);
      return;
    }
    const next = actions.input(id, shown.current, el.value, el.selectionEnd);
    shown.current = next;
    if (el.value !== next) el.value = next;
    resize(el);
  };

  const onCompositionEnd = (e: { currentTarget: HTMLTextAreaElement }) => {
    composing.current = false;
    const el = e.currentTarget;
    if (shown.current === el.value) return;
    const next = actions.input(id, shown.current, el.value, el.selectionEnd);
    shown.current = next;
    if (el.value !== next) el.value = next;
  };

  const label = `${TYPE_LABEL[block.type]} block ${n}`;
  const checked = block.type === "todo" && block.props.checked === true;
  const classes = [
    styles.row,
    styles[block.type],
    checked ? styles.done : "",
    menuOpen ? styles.rowMenuOpen : "",
    drop === "before" ? styles.dropBefore : drop === "after" ? styles.dropAfter : "",
    dragging ? styles.dragging : "",
  ].join(" ");

  return (
    <li
      ref={measure}
      data-index={index}
      data-block-id={id}
      data-block-type={block.type}
      className={classes}
      style={{ transform: `translateY(${start}px)` }}
      onDragOver={(e) => actions.dragOver(id, e)}
      onDrop={(e) => actions.drop(id, e)}
    >
      <div className={styles.gutter}>
        {readOnly ? null : (
          <>
            <button
              type="button"
              className={styles.handle}
              aria-label={`Drag block ${n}`}
              title="Drag to move (or Alt+Shift+↑/↓)"
              draggable
              onDragStart={(e) => actions.dragStart(id, e)}
              onDragEnd={() => actions.dragEnd()}
              onKeyDown={(e) => actions.keyDown(id, e)}
            >
              ⠿
            </button>
            <button
              type="button"
              ref={(el) => actions.registerMenuButton(id, el)}
              className={styles.handle}
              aria-label={`Block options ${n}`}
              aria-haspopup="menu"
              aria-expanded={menuOpen}
              onClick={() => actions.setMenuOpen(menuOpen ? null : id)}
            >
              ⋯
            </button>
            {menuOpen ? (
              <BlockMenu
                label={`Block options ${n}`}
                onAction={(a) => actions.menu(id, a)}
                unavailable={actions.unavailable(id)}
                onClose={(refocus) => actions.setMenuOpen(null, refocus)}
              />
            ) : null}
          </>
        )}
      </div>
      <div className={styles.body} style={depth ? { marginLeft: depth * INDENT_PX } : undefined}>
        {block.type === "todo" ? (
          <input
            type="checkbox"
            className={styles.checkbox}
            aria-label="Done"
            checked={checked}
            disabled={readOnly}
            onChange={() => actions.toggleTodo(id)}
          />
        ) : null}
        {block.type === "divider" ? (
          // A focusable wrapper around <hr>, so a divider can be reached and deleted from the keyboard.
          // biome-ignore lint/a11y/useSemanticElements: <fieldset> would be wrong here; this is a named group.
          <div
            ref={(el) => actions.register(id, el)}
            className={styles.divider}
            role="group"
            aria-label={label}
            // biome-ignore lint/a11y/noNoninteractiveTabindex: focusable so Backspace/Delete can remove it.
            tabIndex={0}
            onKeyDown={(e) => actions.keyDown(id, e)}
          >
            <hr />
          </div>
        ) : (
          <textarea
            ref={setTextRef}
            className={styles.textarea}
            aria-label={label}
            rows={1}
            spellCheck={block.type !== "code"}
            placeholder={PLACEHOLDER[block.type]}
            readOnly={readOnly}
            onInput={onInput}
            onKeyDown={(e) => actions.keyDown(id, e)}
            onCompositionStart={() => {
              composing.current = true;
            }}
            onCompositionEnd={onCompositionEnd}
          />
        )}
      </div>
    </li>
  );
}

export const BlockRow = memo(BlockRowImpl, sameRow);
