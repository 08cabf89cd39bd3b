/**
 * Pure pieces of the presence UI (labels, overflow, geometry), kept out of the components so
 * they are unit-tested without a DOM.
 */
import type { PresencePeer } from "../../lib/presence";
import type { ConnectionState } from "../../lib/sync";

/** The connection badge's text (docs/UI.md). */
export const CONNECTION_TEXT: Record<ConnectionState, string> = {
  live: "Live",
  reconnecting: "Reconnecting…",
  offline: "Offline",
  polling: "Polling",
  closed: "Closed",
};

/** The badge's tooltip: what the state means for the user's edits. */
export const CONNECTION_TITLE: Record<ConnectionState, string> = {
  live: "Connected: changes are sent and received in real time.",
  reconnecting: "Connection lost: reconnecting. Your changes are kept and will be sent.",
  offline: "Not connected. Your changes are kept on this device and sent when the connection is back.",
  polling:
    "Real-time connection unavailable, so changes are fetched every few seconds instead (polling). " +
    "Your edits are still saved.",
  closed: "You no longer have access to this canvas.",
};

/** "{n} unsent" when edits are waiting to be sent, else null. */
export function unsentText(pendingCount: number): string | null {
  return pendingCount > 0 ? `${pendingCount} unsent` : null;
}

/** At most `max` avatars; the rest collapse into one "+n" item. */
export function splitAvatars<T>(
  others: readonly T[],
  max: number,
): { shown: readonly T[]; hidden: readonly T[] } {
  if (others.length <= max) return { shown: others, hidden: [] };
  // One slot goes to the "+n" item itself.
  const keep = Math.max(0, max - 1);
  return { shown: others.slice(0, keep), hidden: others.slice(keep) };
}

/**
 * One line per typist ("{name} is typing…", docs/UI.md); past `max`, the rest are counted. A
 * named line also carries the name and the typist's colour on their own: the name is rendered
 * isolated (`<bdi>`, so it cannot reorder the words around it) beside the colour that tells two
 * people with the same name apart (issue 9).
 */
export function typingLines(
  typing: readonly (Pick<PresencePeer, "user_id" | "name"> & { color?: string })[],
  max = 3,
): { key: string; text: string; name?: string; color?: string }[] {
  const named = typing.length > max ? typing.slice(0, max - 1) : typing;
  const lines: { key: string; text: string; name?: string; color?: string }[] = named.map((peer) => {
    const name = peer.name || "Someone";
    return {
      key: peer.user_id,
      text: `${name} is typing…`,
      name,
      ...(peer.color ? { color: peer.color } : {}),
    };
  });
  const rest = typing.length - named.length;
  if (rest > 0) lines.push({ key: "rest", text: `${rest} others are typing…` });
  return lines;
}

export interface RectLike {
  left: number;
  top: number;
}

/**
 * Where a remote cursor goes in the overlay's coordinates. The overlay is absolutely positioned
 * in the scroll container (its padding box), so viewport rects are shifted by the container's
 * rect, border and scroll offset.
 */
export function overlayPoint(
  block: RectLike,
  container: RectLike & { scrollLeft: number; scrollTop: number; clientLeft: number; clientTop: number },
  cursor: { x: number; y: number },
): { x: number; y: number } {
  return {
    x: block.left - container.left - container.clientLeft + container.scrollLeft + cursor.x,
    y: block.top - container.top - container.clientTop + container.scrollTop + cursor.y,
  };
}

/**
 * The block a pointer at `clientY` belongs to when it is not over one (margins, gaps): the
 * vertically nearest. Returns its index in `rects`, or -1 when there are none.
 */
export function nearestBlockIndex(
  rects: readonly { top: number; bottom: number }[],
  clientY: number,
): number {
  let best = -1;
  let bestDistance = Number.POSITIVE_INFINITY;
  rects.forEach((rect, i) => {
    const distance =
      clientY < rect.top ? rect.top - clientY : clientY > rect.bottom ? clientY - rect.bottom : 0;
    if (distance < bestDistance) {
      best = i;
      bestDistance = distance;
    }
  });
  return best;
}
