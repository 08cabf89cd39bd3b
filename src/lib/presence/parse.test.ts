import { describe, expect, it } from "vitest";
import { parsePresenceEvent, parsePresenceList } from "./parse";

describe("UI-2: helpers", () => {
  it("RT-10: the presence list (GET …/presence) → online users with their state; malformed rows skipped", () => {
    expect(
      parsePresenceList({
        users: [
          { user_id: "a", name: "Ada", cursor: { x: 1, y: 2 }, block_id: "b", typing: true },
          { user_id: "b", name: "Bo", cursor: null, block_id: null, typing: false },
          { user_id: 3, name: "Bad" },
          null,
        ],
      }),
    ).toEqual([
      { user_id: "a", name: "Ada", state: { cursor: { x: 1, y: 2 }, block_id: "b", typing: true } },
      { user_id: "b", name: "Bo", state: { cursor: null, block_id: null, typing: false } },
    ]);
    expect(parsePresenceList({})).toEqual([]);
    expect(parsePresenceList(null)).toEqual([]);
  });

  it("events are validated at the edge", () => {
    expect(parsePresenceEvent({ type: "presence", user_id: "a", cursor: { x: "1", y: 2 } })).toEqual({
      type: "presence",
      users: [{ user_id: "a", name: "", cursor: null, typing: false, block_id: null }],
    });
    expect(
      parsePresenceEvent({
        type: "presence",
        users: [{ user_id: "a", cursor: { x: 1, y: 2 }, typing: "yes" }, { name: "no id" }, 7],
      }),
    ).toEqual({
      type: "presence",
      users: [{ user_id: "a", name: "", cursor: { x: 1, y: 2 }, typing: false, block_id: null }],
    });
    expect(parsePresenceEvent({ type: "leave" })).toBeNull();
    expect(parsePresenceEvent({ type: "op" })).toBeNull();
    expect(parsePresenceEvent("x")).toBeNull();
    expect(parsePresenceEvent({ type: "join", users: [{ user_id: "a", name: "A" }, { name: "x" }] })).toEqual(
      {
        type: "join",
        users: [{ user_id: "a", name: "A" }],
      },
    );
  });
});
