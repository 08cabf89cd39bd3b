import { describe, expect, it } from "vitest";
import { parseOnlineUsers, parsePresenceEvent } from "./parse";

describe("UI-2: helpers", () => {
  it("A8 answer → online users only; malformed rows skipped", () => {
    expect(
      parseOnlineUsers({
        users: [
          { user_id: "a", name: "Ada", online: true },
          { user_id: "b", name: "Bo", online: false },
          { user_id: 3, name: "Bad", online: true },
          null,
        ],
      }),
    ).toEqual([{ user_id: "a", name: "Ada" }]);
    expect(
      parseOnlineUsers({
        users: [
          {
            user_id: "a",
            name: "Ada",
            online: true,
            presence: { cursor: { x: 1, y: 2 }, block_id: "b", typing: true },
          },
          { user_id: "b", name: "Bo", online: true, presence: null },
        ],
      }),
    ).toEqual([
      { user_id: "a", name: "Ada", state: { cursor: { x: 1, y: 2 }, block_id: "b", typing: true } },
      { user_id: "b", name: "Bo" },
    ]);
    expect(parseOnlineUsers({})).toEqual([]);
    expect(parseOnlineUsers(null)).toEqual([]);
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
