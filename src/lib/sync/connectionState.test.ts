import { describe, expect, it } from "vitest";
import {
  attempting,
  badgeOf,
  canTransition,
  InvalidTransitionError,
  type LinkState,
  type LinkStateName,
  TRANSITIONS,
  transition,
  transportOf,
} from "./connectionState";
import type { SyncTransport } from "./types";

const ws = { kind: "websocket" } as SyncTransport;
const rest = { kind: "rest" } as SyncTransport;

/** One value of every state. */
const SAMPLES: Record<LinkStateName, LinkState> = {
  idle: { name: "idle" },
  connecting: { name: "connecting" },
  failing: { name: "failing" },
  offline: { name: "offline" },
  live: { name: "live", transport: ws },
  polling: { name: "polling", transport: rest },
  resuming: { name: "resuming", badge: "live", transport: ws },
  stopped: { name: "stopped" },
  closed: { name: "closed", reason: "access_removed" },
};
const NAMES = Object.keys(SAMPLES) as LinkStateName[];

describe("the connection as a state machine (UI-3)", () => {
  it("UI-3: the badge and the usable transport are functions of the state alone", () => {
    const seen = NAMES.map((n) => [n, badgeOf(SAMPLES[n]), transportOf(SAMPLES[n])?.kind ?? null]);
    expect(seen).toEqual([
      ["idle", "offline", null],
      ["connecting", "reconnecting", null],
      ["failing", "offline", null],
      ["offline", "offline", null],
      ["live", "live", "websocket"],
      ["polling", "polling", "rest"],
      ["resuming", "live", "websocket"],
      ["stopped", "offline", null],
      ["closed", "closed", null],
    ]);
    expect(badgeOf({ name: "resuming", badge: "polling", transport: rest })).toBe("polling");
  });

  it("UI-3: a change the transition table does not list is refused; stopped and closed are final", () => {
    for (const from of NAMES)
      for (const to of NAMES) {
        const listed = TRANSITIONS[from].includes(to);
        expect(canTransition(from, to)).toBe(listed);
        if (listed) expect(transition(SAMPLES[from], SAMPLES[to])).toBe(SAMPLES[to]);
        else expect(() => transition(SAMPLES[from], SAMPLES[to])).toThrow(InvalidTransitionError);
      }
    expect(TRANSITIONS.stopped).toEqual([]);
    expect(TRANSITIONS.closed).toEqual([]);
    // Nothing becomes live or polling without an attempt in between.
    expect(canTransition("idle", "live")).toBe(false);
    expect(canTransition("offline", "live")).toBe(false);
    expect(canTransition("offline", "polling")).toBe(false);
    expect(canTransition("live", "polling")).toBe(false);
    // A socket that worked and was lost is a reconnect, not a failure.
    expect(canTransition("live", "failing")).toBe(false);
  });

  it("UI-3: replacing a working stream keeps its badge; the socket tried from polling says Reconnecting; retries after a failure keep saying Offline", () => {
    const live = SAMPLES.live;
    const polling = SAMPLES.polling;
    expect(attempting(live, "socket")).toEqual({ name: "resuming", badge: "live", transport: ws });
    expect(attempting(live, "poll")).toEqual({ name: "resuming", badge: "live", transport: ws });
    expect(attempting(polling, "poll")).toEqual({ name: "resuming", badge: "polling", transport: rest });
    expect(attempting(polling, "socket")).toEqual({ name: "connecting" });
    const resumingPoll: LinkState = { name: "resuming", badge: "polling", transport: rest };
    expect(attempting(resumingPoll, "poll")).toBe(resumingPoll);
    expect(attempting(resumingPoll, "socket")).toEqual({ name: "connecting" });
    expect(attempting(SAMPLES.failing, "socket")).toBe(SAMPLES.failing);
    expect(attempting(SAMPLES.failing, "poll")).toBe(SAMPLES.failing);
    for (const from of ["idle", "connecting", "offline"] as const)
      for (const via of ["socket", "poll"] as const)
        expect(attempting(SAMPLES[from], via)).toEqual({ name: "connecting" });
    // Every attempt is a change the table allows.
    for (const from of NAMES.filter((n) => n !== "stopped" && n !== "closed"))
      for (const via of ["socket", "poll"] as const)
        expect(canTransition(from, attempting(SAMPLES[from], via).name)).toBe(true);
  });
});
