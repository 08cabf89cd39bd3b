/**
 * UI-2 presence for the editor: who is online, remote cursors, "typing…", the connection badge.
 *
 * How the editor mounts them (src/app/canvas/[id] / src/components/editor):
 *
 * ```tsx
 * import { PresenceBar, RemoteCursors, TypingIndicator, usePresence } from "@/components/presence";
 *
 * const { data: session } = useSession();
 * const state = useSyncExternalStore(engine.subscribe, engine.getSnapshot, engine.getSnapshot);
 * const tracker = usePresence({
 *   engine,                         // the SyncEngine (or null while it is being created)
 *   canvasId,
 *   me: session ? { user_id: session.user.id, name: session.user.name ?? "" } : null,
 *   connection: state.connection,   // reloads the online list after a reconnect
 * });
 * const scrollRef = useRef<HTMLDivElement>(null);
 *
 * <header>
 *   <h1>{canvas.title}</h1>
 *   <PresenceBar tracker={tracker} state={state} />   // "Online now" list + "Connection" status
 * </header>
 * <TypingIndicator tracker={tracker} />               // "{name} is typing…" (aria-live), e.g. under the header
 * <div ref={scrollRef} style={{ position: "relative", overflow: "auto" }}>   // the scroll container
 *   <RemoteCursors tracker={tracker} containerRef={scrollRef} />
 *   <ul aria-label="Blocks">… each block: <li data-block-id={id}> …</ul>
 * </div>
 * ```
 *
 * - Nothing else to wire: RemoteCursors listens to pointermove / pointerleave / `input` on the
 *   container itself and finds the block with `closest('[data-block-id]')`. Cursor coordinates
 *   are px from the top-left of that `[data-block-id]` element, so every client must put
 *   `data-block-id` on the same element (the block's `listitem`, docs/UI.md).
 * - The container must be `position: relative` (the overlay is absolutely positioned in it). It
 *   may be the scroll container itself or, when the window scrolls (useWindowVirtualizer), any box
 *   around the blocks list: positions are re-read on every scroll, resize and DOM change.
 * - While polling (no presence events over H4), the online list (`GET …/presence`) is reloaded
 *   every 2 s; it carries each online user's latest cursor and typing state, so a polling client
 *   shows them too (RT-10), a little behind the live ones.
 * - `usePresence` owns the tracker: started on mount, stopped on unmount (clears our cursor for
 *   the others). It loads who is online from `GET /api/v1/canvas/{id}/presence`.
 * - The engine needs `sendPresence(input)` and `onPresence(listener)` (src/lib/sync/engine.ts has both).
 */
export { ConnectionBadge, PresenceBar, type PresenceBarProps } from "./PresenceBar";
export { RemoteCursors, type RemoteCursorsProps, usePresenceInput } from "./RemoteCursors";
export { TypingIndicator } from "./TypingIndicator";
export { type UsePresenceOptions, usePresence } from "./usePresence";
export { usePresenceSnapshot } from "./usePresenceSnapshot";
