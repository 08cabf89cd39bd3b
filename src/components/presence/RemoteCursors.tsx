"use client";

import { type RefObject, useCallback, useEffect, useLayoutEffect, useRef } from "react";
import type { PresenceTracker } from "../../lib/presence";
import styles from "./presence.module.css";
import { nearestBlockIndex, overlayPoint } from "./presenceView";
import { usePresenceSnapshot } from "./usePresenceSnapshot";

const BLOCK = "[data-block-id]";

export interface RemoteCursorsProps {
  tracker: PresenceTracker | null;
  /** The editor's scroll container (`position: relative`); this overlay is rendered inside it. */
  containerRef: RefObject<HTMLElement | null>;
}

/**
 * UI-2: the others' pointers (coloured arrow + name) and a bar beside the block each of them is
 * typing in. Positions are block-relative on the wire; here they are mapped into the scroll
 * container's content box. Layout runs after each render and, coalesced per animation frame,
 * on scroll, resize and DOM changes (virtualised rows mounting): all reads first, then all
 * writes, written straight to the DOM so a moving cursor costs no React render.
 * Also wires our own pointer and typing (usePresenceInput), so the editor has nothing to wire.
 */
export function RemoteCursors({ tracker, containerRef }: RemoteCursorsProps) {
  usePresenceInput(tracker, containerRef);
  const snapshot = usePresenceSnapshot(tracker);
  const overlayRef = useRef<HTMLDivElement>(null);

  const layout = useCallback(() => {
    const container = containerRef.current;
    const overlay = overlayRef.current;
    if (!container || !overlay) return;
    // Read phase.
    const c = container.getBoundingClientRect();
    const box = {
      left: c.left,
      top: c.top,
      scrollLeft: container.scrollLeft,
      scrollTop: container.scrollTop,
      clientLeft: container.clientLeft,
      clientTop: container.clientTop,
    };
    const rects = new Map<string, DOMRect | null>();
    const rectOf = (blockId: string) => {
      if (!rects.has(blockId)) {
        const el = container.querySelector(`[data-block-id="${CSS.escape(blockId)}"]`);
        rects.set(blockId, el ? el.getBoundingClientRect() : null);
      }
      return rects.get(blockId) ?? null;
    };
    const writes: Array<() => void> = [];
    for (const node of overlay.querySelectorAll<HTMLElement>("[data-presence-kind]")) {
      const blockId = node.dataset.targetBlock;
      const rect = blockId ? rectOf(blockId) : null;
      if (!rect) {
        // The block is not mounted (virtualised away, or deleted): nothing to point at.
        writes.push(() => {
          node.hidden = true;
        });
        continue;
      }
      if (node.dataset.presenceKind === "cursor") {
        const p = overlayPoint(rect, box, { x: Number(node.dataset.x), y: Number(node.dataset.y) });
        writes.push(() => {
          node.style.transform = `translate3d(${p.x}px, ${p.y}px, 0)`;
          node.hidden = false;
        });
      } else {
        const p = overlayPoint(rect, box, { x: 0, y: 0 });
        writes.push(() => {
          node.style.transform = `translate3d(${p.x}px, ${p.y}px, 0)`;
          node.style.height = `${rect.height}px`;
          node.hidden = false;
        });
      }
    }
    // Write phase.
    for (const write of writes) write();
  }, [containerRef]);

  // After every render (new cursor, moved cursor): position before paint, so nothing flashes at 0,0.
  useLayoutEffect(() => {
    layout();
  });

  useEffect(() => {
    const container = containerRef.current;
    if (!container) return;
    let frame = 0;
    const schedule = () => {
      if (frame) return;
      frame = requestAnimationFrame(() => {
        frame = 0;
        layout();
      });
    };
    // Capture: any scroll (the container's, the window's when it is the scroll element).
    window.addEventListener("scroll", schedule, { passive: true, capture: true });
    window.addEventListener("resize", schedule);
    const resizes = new ResizeObserver(schedule);
    resizes.observe(container);
    const mutations = new MutationObserver((records) => {
      // Our own position writes are mutations too: ignore them, or we would loop every frame.
      const overlay = overlayRef.current;
      if (records.some((record) => !overlay?.contains(record.target))) schedule();
    });
    mutations.observe(container, {
      childList: true,
      subtree: true,
      attributes: true,
      attributeFilter: ["style", "class", "hidden"],
    });
    return () => {
      window.removeEventListener("scroll", schedule, { capture: true });
      window.removeEventListener("resize", schedule);
      resizes.disconnect();
      mutations.disconnect();
      cancelAnimationFrame(frame);
    };
  }, [containerRef, layout]);

  const others = snapshot?.others ?? [];
  return (
    <div ref={overlayRef} className={styles.overlay}>
      {others.map((peer) =>
        peer.cursor && peer.block_id ? (
          <div
            key={`cursor-${peer.user_id}`}
            data-testid="remote-cursor"
            role="img"
            aria-label={`${peer.name || "Someone"}'s cursor`}
            className={styles.cursor}
            data-presence-kind="cursor"
            data-target-block={peer.block_id}
            data-x={peer.cursor.x}
            data-y={peer.cursor.y}
          >
            <svg className={styles.arrow} width="16" height="18" viewBox="0 0 16 18" aria-hidden="true">
              <path
                d="M1.5 1.5v13l3.6-3.3 2.5 5.3 2.3-1-2.5-5.2h5.1z"
                fill={peer.color}
                stroke="#fff"
                strokeWidth="1.3"
                strokeLinejoin="round"
              />
            </svg>
            <span className={styles.cursorLabel} style={{ backgroundColor: peer.color }}>
              {/* Isolated: a name cannot reorder what is around it (issue 9). */}
              <bdi>{peer.name || "Someone"}</bdi>
            </span>
          </div>
        ) : null,
      )}
      {others.map((peer) =>
        peer.typing && peer.block_id ? (
          <div
            key={`typing-${peer.user_id}`}
            aria-hidden="true"
            className={styles.typingMarker}
            data-presence-kind="marker"
            data-target-block={peer.block_id}
            style={{ backgroundColor: peer.color }}
          />
        ) : null,
      )}
    </div>
  );
}

/**
 * Our pointer and keystrokes → presence: pointermove/pointerleave and `input` on the container,
 * the block taken from `event.target.closest('[data-block-id]')` (or, in the gaps between
 * blocks, the vertically nearest one), the position relative to that block's top-left.
 */
export function usePresenceInput(
  tracker: PresenceTracker | null,
  containerRef: RefObject<HTMLElement | null>,
): void {
  useEffect(() => {
    const container = containerRef.current;
    if (!tracker || !container) return;
    const onMove = (event: PointerEvent) => {
      const block = blockAt(container, event.target, event.clientY);
      const blockId = block?.getAttribute("data-block-id");
      if (!block || !blockId) {
        tracker.clear();
        return;
      }
      const rect = block.getBoundingClientRect();
      tracker.moveCursor(blockId, event.clientX - rect.left, event.clientY - rect.top);
    };
    const onLeave = () => tracker.clear();
    const onInput = (event: Event) => {
      const block = event.target instanceof Element ? event.target.closest(BLOCK) : null;
      const blockId = block?.getAttribute("data-block-id");
      if (block && blockId && container.contains(block)) tracker.typing(blockId);
    };
    container.addEventListener("pointermove", onMove, { passive: true });
    container.addEventListener("pointerleave", onLeave);
    container.addEventListener("input", onInput);
    return () => {
      container.removeEventListener("pointermove", onMove);
      container.removeEventListener("pointerleave", onLeave);
      container.removeEventListener("input", onInput);
    };
  }, [tracker, containerRef]);
}

function blockAt(container: HTMLElement, target: EventTarget | null, clientY: number): Element | null {
  const direct = target instanceof Element ? target.closest(BLOCK) : null;
  if (direct && container.contains(direct)) return direct;
  const blocks = [...container.querySelectorAll(BLOCK)];
  const index = nearestBlockIndex(
    blocks.map((block) => block.getBoundingClientRect()),
    clientY,
  );
  return blocks[index] ?? null;
}
