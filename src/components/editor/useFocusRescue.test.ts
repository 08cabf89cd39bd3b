import { describe, expect, it } from "vitest";
import { rescueTarget } from "./useFocusRescue";

describe("rescueTarget (UI-2: focus never drops out of the canvas)", () => {
  const order = ["a", "b", "c", "d"];
  const without =
    (...gone: string[]) =>
    (id: string) =>
      !gone.includes(id);

  it("UI-2: a deleted focused block hands focus to the previous block, its caret at the end", () => {
    expect(rescueTarget(order, "c", without("c"))).toEqual({ id: "b", caret: "end" });
  });

  it("UI-2: the first block hands it to the next one, its caret at the start", () => {
    expect(rescueTarget(order, "a", without("a"))).toEqual({ id: "b", caret: "start" });
  });

  it("UI-2: neighbours deleted with it (a parent and its children) are skipped", () => {
    expect(rescueTarget(order, "c", without("b", "c"))).toEqual({ id: "a", caret: "end" });
    expect(rescueTarget(order, "a", without("a", "b"))).toEqual({ id: "c", caret: "start" });
  });

  it("UI-2: nothing left, or a block the page never showed: no target", () => {
    expect(rescueTarget(order, "b", () => false)).toBeNull();
    expect(rescueTarget(order, "x", without("x"))).toBeNull();
  });
});
