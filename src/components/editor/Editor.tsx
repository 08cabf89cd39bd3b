"use client";

import { defaultRangeExtractor, type Range, useWindowVirtualizer } from "@tanstack/react-virtual";
import Link from "next/link";
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import { ConflictPanel } from "@/components/conflict";
import { PresenceBar, RemoteCursors, TypingIndicator, usePresence } from "@/components/presence";
import { buildTree } from "@/lib/blockTree";
import { blockName } from "@/lib/conflictDiff";
import type { SyncEngine, SyncState } from "@/lib/sync";
import { BlockRow } from "./BlockRow";
import styles from "./editor.module.css";
import { createEditorActions } from "./editorActions";
import type { CanvasInfo, DragState, EditorContext, Me } from "./types";
import { useFocusRescue } from "./useFocusRescue";
import { useUndo } from "./useUndo";

interface Props {
  engine: SyncEngine;
  state: SyncState;
  canvas: CanvasInfo;
  me: Me;
  error: string | null;
  onDismissError(): void;
}

/** A row's height before it is measured (one line of text). */
const ESTIMATED_ROW_PX = 34;

function sameIds(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** UI-2: the block editor of one canvas. */
export function Editor({ engine, state, canvas, me, error, onDismissError }: Props) {
  const closed = state.connection === "closed";
  const revoked = !state.writable && !closed;
  const readOnly = canvas.role === "reader" || closed || revoked;
  const tree = useMemo(() => buildTree(state.blocks), [state.blocks]);
  const undo = useUndo(engine);
  const tracker = usePresence({
    engine,
    canvasId: canvas.canvas_id,
    me: me.id ? { user_id: me.id, name: me.name } : null,
    connection: state.connection,
  });
  const surfaceRef = useRef<HTMLDivElement>(null);

  const [menuId, setMenuId] = useState<string | null>(null);
  const [drag, setDrag] = useState<DragState | null>(null);

  const listRef = useRef<HTMLUListElement>(null);
  const [scrollMargin, setScrollMargin] = useState(0);
  // The list's distance from the top of the document (the window is the scroll element); banners
  // above it come and go, so it is checked after every commit (one layout read) and on resize.
  useLayoutEffect(() => {
    const top = (listRef.current?.getBoundingClientRect().top ?? 0) + window.scrollY;
    if (top !== scrollMargin) setScrollMargin(top);
  });
  useLayoutEffect(() => {
    const measure = () =>
      setScrollMargin((listRef.current?.getBoundingClientRect().top ?? 0) + window.scrollY);
    window.addEventListener("resize", measure);
    return () => window.removeEventListener("resize", measure);
  }, []);

  // The focused row stays rendered even when scrolled out of the window, so typing never lands
  // in a row that virtualisation just unmounted.
  const focusedIndex = useRef<number | null>(null);
  const rangeExtractor = useCallback((range: Range) => {
    const indexes = defaultRangeExtractor(range);
    const f = focusedIndex.current;
    if (f !== null && f < range.count && !indexes.includes(f)) {
      indexes.push(f);
      indexes.sort((a, b) => a - b);
    }
    return indexes;
  }, []);
  // A new getItemKey makes the virtualiser recompute every row's offset (O(n) at 5,000 blocks), so
  // it only changes when the order of blocks does, not on a keystroke.
  const order = useRef<{ ids: string[]; getKey: (i: number) => string | number } | null>(null);
  const ids = tree.rows.map((r) => r.block.block_id);
  if (!order.current || !sameIds(order.current.ids, ids)) {
    order.current = { ids, getKey: (i: number) => ids[i] ?? i };
  }
  const virtualizer = useWindowVirtualizer({
    count: tree.rows.length,
    estimateSize: () => ESTIMATED_ROW_PX,
    overscan: 10,
    scrollMargin,
    getItemKey: order.current.getKey,
    rangeExtractor,
  });

  // Everything the (stable) actions read, refreshed on every render.
  const ctx = useRef<EditorContext | null>(null);
  const context: EditorContext = {
    engine,
    state,
    tree,
    readOnly,
    undo,
    setMenuId,
    setDrag,
    drag,
    scrollToIndex: (i) => virtualizer.scrollToIndex(i, { align: "auto" }),
  };
  ctx.current = context;
  const [actions] = useState(() => createEditorActions(() => ctx.current as EditorContext));

  // Focus requested for a block that was not rendered yet (new, or scrolled away): apply it once
  // its row mounted, and keep the focused row's index fresh for the range extractor.
  useLayoutEffect(() => {
    actions.afterRender();
    const active = document.activeElement?.closest<HTMLElement>("[data-block-id]");
    const id = active?.dataset.blockId;
    focusedIndex.current = id ? (tree.indexById.get(id) ?? null) : null;
  });
  // Someone else deleted the focused block: focus moves to a neighbour, never to the page.
  useFocusRescue(listRef, ids, (id) => tree.indexById.has(id), actions.focus);

  useEffect(() => {
    document.title = `${canvas.title} · POTENTIA`;
  }, [canvas.title]);

  // UI-5: Ctrl+Z keeps working when focus is not in a block (the toolbar, or a block the last
  // undo removed); blocks handle their own keys first.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => void actions.globalKeyDown(e);
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [actions]);

  const items = virtualizer.getVirtualItems();
  const conflict = state.conflicts[0];
  // The conflict panel names a parent block as the page shows it.
  const nameOf = useCallback(
    (id: string) => {
      const b = state.byId.get(id);
      const i = tree.indexById.get(id);
      return b ? blockName(b, i === undefined ? undefined : i + 1) : undefined;
    },
    [state.byId, tree],
  );
  const addBlock = () => actions.addBlock();

  return (
    <main className={styles.page}>
      <div className={styles.toolbar}>
        <Link href="/" className={styles.back}>
          <span aria-hidden="true">←</span> All canvases
        </Link>
        <PresenceBar tracker={tracker} state={state} />
        {readOnly ? null : (
          <>
            <button
              type="button"
              className={styles.toolButton}
              onClick={() => undo.undo()}
              disabled={!undo.canUndo}
              aria-keyshortcuts="Control+Z"
            >
              Undo
            </button>
            <button
              type="button"
              className={styles.toolButton}
              onClick={() => undo.redo()}
              disabled={!undo.canRedo}
              aria-keyshortcuts="Control+Shift+Z"
            >
              Redo
            </button>
            <button type="button" className={styles.toolButton} onClick={addBlock}>
              Add block
            </button>
          </>
        )}
      </div>
      <h1 className={styles.title}>{canvas.title}</h1>
      {canvas.role === "reader" ? <p className={styles.readOnlyNote}>You can view this canvas.</p> : null}
      {revoked ? (
        <p role="alert" className={`alert ${styles.errorBanner}`}>
          You can no longer edit this canvas (your role changed); you can still view it live.
          {state.pendingCount > 0
            ? ` ${state.pendingCount} unsent edit${state.pendingCount === 1 ? " is" : "s are"} kept on this device.`
            : ""}
        </p>
      ) : null}
      {closed ? (
        <p role="alert" className={`alert ${styles.errorBanner}`}>
          {state.closedReason === "canvas_deleted"
            ? "This canvas was deleted, or you were removed from it."
            : "Your access to this canvas was removed."}{" "}
          <Link href="/">Back to all canvases</Link>
        </p>
      ) : null}
      {error ? (
        <p role="alert" className={`alert ${styles.errorBanner}`}>
          {error}{" "}
          <button type="button" className={styles.toolButton} onClick={onDismissError}>
            Dismiss
          </button>
        </p>
      ) : null}
      {conflict ? (
        <ConflictPanel
          key={conflict.id}
          conflict={conflict}
          {...(tree.indexById.has(conflict.blockId)
            ? { blockNumber: (tree.indexById.get(conflict.blockId) as number) + 1 }
            : {})}
          blockName={nameOf}
          onAcceptTheirs={() => engine.resolveConflict(conflict.id, "theirs")}
          onKeepMine={() => engine.resolveConflict(conflict.id, "mine")}
        />
      ) : null}
      <TypingIndicator tracker={tracker} />
      <div ref={surfaceRef} className={styles.surface}>
        <RemoteCursors tracker={tracker} containerRef={surfaceRef} />
        <ul
          ref={listRef}
          aria-label="Blocks"
          className={styles.list}
          style={{ height: virtualizer.getTotalSize() }}
          onFocus={(e) => {
            const id = (e.target as HTMLElement).closest<HTMLElement>("[data-block-id]")?.dataset.blockId;
            focusedIndex.current = id ? (tree.indexById.get(id) ?? null) : null;
          }}
        >
          {items.map((item) => {
            const row = tree.rows[item.index];
            if (!row) return null;
            const id = row.block.block_id;
            return (
              <BlockRow
                key={id}
                block={row.block}
                depth={row.depth}
                index={item.index}
                start={item.start - scrollMargin}
                readOnly={readOnly}
                menuOpen={menuId === id}
                drop={drag?.over?.id === id ? drag.over.where : null}
                dragging={drag?.id === id}
                actions={actions}
                measure={virtualizer.measureElement}
              />
            );
          })}
        </ul>
      </div>
      {tree.rows.length === 0 ? (
        <p className={styles.empty}>
          {readOnly ? "This canvas is empty." : "Empty canvas. Add a block to start."}
        </p>
      ) : null}
      {readOnly ? null : (
        <div className={styles.addRow}>
          <button
            type="button"
            className={styles.addButton}
            onClick={addBlock}
            tabIndex={-1}
            aria-hidden="true"
          >
            + Click to add a block
          </button>
        </div>
      )}
    </main>
  );
}
