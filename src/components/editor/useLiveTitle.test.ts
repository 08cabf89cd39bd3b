import { describe, expect, it } from "vitest";
import { newerTitle, renameOf } from "./useLiveTitle";

const CANVAS = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";

describe("the editor's title follows a rename (RT-8)", () => {
  it("RT-8: a canvas_updated message of this canvas is a rename; others are not", () => {
    const data = JSON.stringify({
      type: "canvas_updated",
      canvas_id: CANVAS,
      title: "After",
      updated_at: "2026-12-03T10:00:01.000Z",
    });
    expect(renameOf("canvas_updated", data, CANVAS)).toEqual({
      title: "After",
      updated_at: "2026-12-03T10:00:01.000Z",
    });
    expect(renameOf("canvas_updated", data, "another canvas")).toBeNull();
    expect(renameOf("member_added", data, CANVAS)).toBeNull();
    expect(renameOf("canvas_updated", "not json", CANVAS)).toBeNull();
    expect(renameOf("canvas_updated", JSON.stringify({ canvas_id: CANVAS }), CANVAS)).toBeNull();
  });

  it("RT-8: a message that arrives late never undoes a newer rename", () => {
    const older = { title: "First", updated_at: "2026-12-03T10:00:01.000Z" };
    const newer = { title: "Second", updated_at: "2026-12-03T10:00:02.000Z" };
    expect(newerTitle(older, newer)).toBe(newer);
    expect(newerTitle(newer, older)).toBe(newer);
    expect(newerTitle({ title: "Loaded" }, older)).toBe(older);
    expect(newerTitle(older, { title: "No time" })).toBe(older);
  });
});
