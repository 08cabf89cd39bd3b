import type { ClosedReason, SyncTransport } from "./types";

/** What the connection badge says (UI-3). "closed": the server ended our access (4403 / 4404). */
export type ConnectionState = "live" | "reconnecting" | "offline" | "polling" | "closed";

/**
 * UI-3: what the engine's connection is doing, one named state at a time. The badge and the
 * transport mutations may use are functions of it (`badgeOf`, `transportOf`), so they can never
 * disagree with it; `transition` refuses any change the table below does not list.
 */
export type LinkState =
  /** Built, not connected yet. */
  | { name: "idle" }
  /** The first attempt, or the first one after a working stream was lost or the network came back. */
  | { name: "connecting" }
  /** The last attempt failed: retrying with backoff; the badge says Offline until one works. */
  | { name: "failing" }
  /** The device has no network: every stream closed, nothing attempted until it returns. */
  | { name: "offline" }
  /** The socket's subscription has started. */
  | { name: "live"; transport: SyncTransport }
  /** The last H4 poll succeeded. */
  | { name: "polling"; transport: SyncTransport }
  /**
   * A working stream is being replaced on purpose (resubscribing from serverSeq after a healed
   * gap, a mode switch, a poll brought forward): badge and transport stay as they were until the
   * new stream opens, so the badge does not flicker.
   */
  | { name: "resuming"; badge: "live" | "polling"; transport: SyncTransport }
  /** stop(): nothing reconnects. */
  | { name: "stopped" }
  /** The server ended our access (4403 / 4404, REST 403 / 404): nothing reconnects. */
  | { name: "closed"; reason: ClosedReason };

export type LinkStateName = LinkState["name"];

/** Every change the connection may make; anything else is a bug and is refused. */
export const TRANSITIONS: { readonly [K in LinkStateName]: readonly LinkStateName[] } = {
  idle: ["connecting", "offline", "stopped", "closed"],
  connecting: ["connecting", "live", "polling", "failing", "offline", "stopped", "closed"],
  failing: ["failing", "connecting", "live", "polling", "offline", "stopped", "closed"],
  offline: ["offline", "connecting", "stopped", "closed"],
  live: ["resuming", "connecting", "offline", "stopped", "closed"],
  polling: ["resuming", "connecting", "live", "failing", "offline", "stopped", "closed"],
  resuming: ["resuming", "connecting", "live", "polling", "failing", "offline", "stopped", "closed"],
  stopped: [],
  closed: [],
};

export class InvalidTransitionError extends Error {
  constructor(
    readonly from: LinkStateName,
    readonly to: LinkStateName,
  ) {
    super(`connection: no transition from "${from}" to "${to}"`);
    this.name = "InvalidTransitionError";
  }
}

export function canTransition(from: LinkStateName, to: LinkStateName): boolean {
  return TRANSITIONS[from].includes(to);
}

/** `to`, if the table allows it from `from`; throws InvalidTransitionError otherwise. */
export function transition(from: LinkState, to: LinkState): LinkState {
  if (!canTransition(from.name, to.name)) throw new InvalidTransitionError(from.name, to.name);
  return to;
}

export function isTerminal(state: LinkState): boolean {
  return state.name === "stopped" || state.name === "closed";
}

export function badgeOf(state: LinkState): ConnectionState {
  switch (state.name) {
    case "live":
    case "polling":
      return state.name;
    case "resuming":
      return state.badge;
    case "connecting":
      return "reconnecting";
    case "closed":
      return "closed";
    default:
      return "offline";
  }
}

/** The transport mutations and presence may use in this state (null: none). */
export function transportOf(state: LinkState): SyncTransport | null {
  return state.name === "live" || state.name === "polling" || state.name === "resuming"
    ? state.transport
    : null;
}

/**
 * The state while a (re)subscription over `via` is on its way. Replacing a working stream keeps
 * its badge (resuming), unless the socket is tried from polling (that is a reconnect the user
 * should see); attempts after a failure keep saying Offline until one works.
 */
export function attempting(from: LinkState, via: "socket" | "poll"): LinkState {
  switch (from.name) {
    case "failing":
      return from;
    case "live":
      return { name: "resuming", badge: "live", transport: from.transport };
    case "polling":
      return via === "poll"
        ? { name: "resuming", badge: "polling", transport: from.transport }
        : { name: "connecting" };
    case "resuming":
      return via === "poll" || from.badge === "live" ? from : { name: "connecting" };
    default:
      return { name: "connecting" };
  }
}
