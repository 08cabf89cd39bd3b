import { describe, expect, it } from "vitest";
import {
  CONNECTION_TEXT,
  nearestBlockIndex,
  overlayPoint,
  splitAvatars,
  typingLines,
  unsentText,
} from "./presenceView";

describe("UI-2: presence view helpers", () => {
  it("UI-2: connection texts match docs/UI.md", () => {
    expect(CONNECTION_TEXT).toEqual({
      live: "Live",
      reconnecting: "Reconnecting…",
      offline: "Offline",
      polling: "Polling",
      closed: "Closed",
    });
    expect(unsentText(0)).toBeNull();
    expect(unsentText(3)).toBe("3 unsent");
  });

  it("UI-2: one '{name} is typing…' line per typist, the rest counted", () => {
    const peer = (user_id: string, name: string) => ({ user_id, name });
    expect(typingLines([])).toEqual([]);
    expect(typingLines([peer("a", "Ada"), peer("b", "Bo")]).map((l) => l.text)).toEqual([
      "Ada is typing…",
      "Bo is typing…",
    ]);
    const many = typingLines([peer("a", "Ada"), peer("b", "Bo"), peer("c", "Cy"), peer("d", "Di")]);
    expect(many.map((l) => l.text)).toEqual(["Ada is typing…", "Bo is typing…", "2 others are typing…"]);
    // Same names, distinct keys (React keys must not collide).
    const twins = typingLines([peer("a", "Sam"), peer("b", "Sam")]);
    expect(new Set(twins.map((l) => l.key)).size).toBe(2);
  });

  it("UI-2: a typing line carries the typist's name on its own (rendered isolated) and their colour", () => {
    const [line] = typingLines([{ user_id: "a", name: "\u05D0\u05D1 Ada", color: "#123456" }]);
    expect(line).toEqual({
      key: "a",
      text: "\u05D0\u05D1 Ada is typing…",
      name: "\u05D0\u05D1 Ada",
      color: "#123456",
    });
    expect(typingLines([{ user_id: "b", name: "" }])[0]).toMatchObject({ name: "Someone" });
  });

  it("avatars past the limit collapse into one '+n' slot", () => {
    expect(splitAvatars([1, 2, 3], 3)).toEqual({ shown: [1, 2, 3], hidden: [] });
    expect(splitAvatars([1, 2, 3, 4, 5], 3)).toEqual({ shown: [1, 2], hidden: [3, 4, 5] });
  });

  it("UI-2: a block-relative cursor maps into the scrolled container's content box", () => {
    const container = { left: 100, top: 50, scrollLeft: 0, scrollTop: 400, clientLeft: 1, clientTop: 1 };
    // The block is on screen 30 px below the container's top edge, scrolled by 400.
    expect(overlayPoint({ left: 120, top: 80 }, container, { x: 5, y: 6 })).toEqual({ x: 24, y: 435 });
    // Scrolling moves the block on screen and the scroll offset by the same amount: same point.
    const scrolled = { ...container, scrollTop: 500 };
    expect(overlayPoint({ left: 120, top: -20 }, scrolled, { x: 5, y: 6 })).toEqual({ x: 24, y: 435 });
  });

  it("a pointer between blocks belongs to the vertically nearest one", () => {
    const rects = [
      { top: 0, bottom: 40 },
      { top: 50, bottom: 90 },
      { top: 100, bottom: 140 },
    ];
    expect(nearestBlockIndex(rects, 20)).toBe(0);
    expect(nearestBlockIndex(rects, 47)).toBe(1);
    expect(nearestBlockIndex(rects, 94)).toBe(1);
    expect(nearestBlockIndex(rects, 500)).toBe(2);
    expect(nearestBlockIndex(rects, -30)).toBe(0);
    expect(nearestBlockIndex([], 10)).toBe(-1);
  });
});
