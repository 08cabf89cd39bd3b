import { describe, expect, it } from "vitest";
import type { BlockJson } from "@/lib/sync";
import { sameRow } from "./sameRow";
import type { BlockRowProps, EditorActions } from "./types";

const block: BlockJson = {
  block_id: "b1",
  canvas_id: "c",
  parent_id: null,
  type: "text",
  content: "hello",
  props: {},
  y_order: "a",
  version: 3,
  created_at: "",
  created_by: null,
  updated_at: "",
  updated_by: null,
};
const actions = {} as EditorActions;
const measure = () => {};
const props: BlockRowProps = {
  block,
  depth: 0,
  index: 0,
  start: 0,
  readOnly: false,
  menuOpen: false,
  drop: null,
  dragging: false,
  actions,
  measure,
};

describe("sameRow (BlockRow memo)", () => {
  it("skips a re-render when the engine rebuilt the block object without changing what is shown", () => {
    // getSnapshot re-applies pending ops: a new object, same content, a newer local version.
    expect(sameRow(props, { ...props, block: { ...block, version: 4, y_order: "a" } })).toBe(true);
  });

  it("re-renders for a content, type or checkbox change", () => {
    expect(sameRow(props, { ...props, block: { ...block, content: "hello!" } })).toBe(false);
    expect(sameRow(props, { ...props, block: { ...block, type: "quote" } })).toBe(false);
    expect(sameRow(props, { ...props, block: { ...block, props: { checked: true } } })).toBe(false);
  });

  it("re-renders when its position, depth, number or menu/drag state changes", () => {
    expect(sameRow(props, { ...props, start: 34 })).toBe(false);
    expect(sameRow(props, { ...props, depth: 1 })).toBe(false);
    expect(sameRow(props, { ...props, index: 1 })).toBe(false);
    expect(sameRow(props, { ...props, menuOpen: true })).toBe(false);
    expect(sameRow(props, { ...props, drop: "before" })).toBe(false);
  });
});
