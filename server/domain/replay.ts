import { MAX_REPLAY_EVENTS } from "../protocol/limits";

export { MAX_REPLAY_EVENTS };

/** What a replay needs to know of each event. */
export interface ChainLink {
  server_seq: number;
  prev_seq: number | null;
}

/**
 * RT-5's one replay rule, for the socket (a subscriber's `since_seq` / lastEventId) and H4 alike:
 * `events` — the applied ops after `sinceSeq` read in one snapshot with the canvas head `head`,
 * at most MAX_REPLAY_EVENTS + 1 of them — are the complete, gap-free replay when they are not
 * too many, the first chains back to at most `sinceSeq` (its predecessor was not pruned from the
 * log), and they reach the head. With nothing to replay, `sinceSeq` must be the head itself. A
 * `sinceSeq` ahead of the head is never complete (the caller decides whether that is an error).
 */
export function replayIsComplete(sinceSeq: number, events: readonly ChainLink[], head: number): boolean {
  if (sinceSeq > head || events.length > MAX_REPLAY_EVENTS) return false;
  const first = events[0];
  const last = events[events.length - 1];
  if (!first || !last) return sinceSeq === head;
  return (first.prev_seq ?? 0) <= sinceSeq && last.server_seq === head;
}
