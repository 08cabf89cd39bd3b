"use client";

import { Fragment, type KeyboardEvent, useEffect, useRef } from "react";
import styles from "./editor.module.css";

export type MenuAction =
  | "text"
  | "heading"
  | "todo"
  | "code"
  | "quote"
  | "divider"
  | "up"
  | "down"
  | "indent"
  | "outdent"
  | "delete";

const ITEMS: { action: MenuAction; label: string; separatorBefore?: boolean; danger?: boolean }[] = [
  { action: "text", label: "Text" },
  { action: "heading", label: "Heading" },
  { action: "todo", label: "Todo" },
  { action: "code", label: "Code" },
  { action: "quote", label: "Quote" },
  { action: "divider", label: "Divider" },
  { action: "up", label: "Move up", separatorBefore: true },
  { action: "down", label: "Move down" },
  { action: "indent", label: "Indent" },
  { action: "outdent", label: "Outdent" },
  { action: "delete", label: "Delete", separatorBefore: true, danger: true },
];

interface Props {
  /** Accessible name of the menu (the button's label). */
  label: string;
  onAction(action: MenuAction): void;
  /** Items that would do nothing here (Move up on a first block, Outdent at the top level, …). */
  unavailable?: ReadonlySet<MenuAction>;
  /** Closes the menu; `refocus` puts focus back on the menu button (Escape, a chosen item). */
  onClose(refocus: boolean): void;
}

/** The block options menu (WAI-ARIA menu button pattern: arrows, Home/End, Escape, Tab). */
export function BlockMenu({ label, onAction, onClose, unavailable }: Props) {
  const ref = useRef<HTMLDivElement>(null);

  useEffect(() => {
    ref.current?.querySelector<HTMLButtonElement>("[role=menuitem]")?.focus();
    const onPointer = (e: PointerEvent) => {
      const menu = ref.current;
      // A press on the menu button itself toggles it (the button's own click handler).
      const owner = menu?.parentElement;
      if (menu && owner && !owner.contains(e.target as Node)) onClose(false);
    };
    document.addEventListener("pointerdown", onPointer);
    return () => document.removeEventListener("pointerdown", onPointer);
  }, [onClose]);

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const items = [...(ref.current?.querySelectorAll<HTMLButtonElement>("[role=menuitem]") ?? [])];
    const at = items.indexOf(document.activeElement as HTMLButtonElement);
    const go = (i: number) => items[(i + items.length) % items.length]?.focus();
    if (e.key === "ArrowDown") go(at + 1);
    else if (e.key === "ArrowUp") go(at - 1);
    else if (e.key === "Home") go(0);
    else if (e.key === "End") go(items.length - 1);
    else if (e.key === "Escape") onClose(true);
    else if (e.key === "Tab") {
      onClose(false);
      return;
    } else return;
    e.preventDefault();
    e.stopPropagation();
  };

  return (
    <div ref={ref} role="menu" aria-label={label} className={styles.menu} onKeyDown={onKeyDown}>
      {ITEMS.map((item) => (
        <Fragment key={item.action}>
          {item.separatorBefore ? <hr className={styles.menuSeparator} /> : null}
          <button
            type="button"
            role="menuitem"
            tabIndex={-1}
            // aria-disabled, not disabled: the item stays reachable with the arrow keys.
            aria-disabled={unavailable?.has(item.action) || undefined}
            className={`${styles.menuItem} ${item.danger ? styles.menuItemDanger : ""}`}
            onClick={() => {
              if (!unavailable?.has(item.action)) onAction(item.action);
            }}
          >
            {item.label}
          </button>
        </Fragment>
      ))}
    </div>
  );
}
