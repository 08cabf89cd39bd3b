import { describe, expect, it } from "vitest";
import {
  buildTree,
  dropPlacement,
  indentPlacement,
  moveDownPlacement,
  moveUpPlacement,
  neighbourIndex,
  newBlockPlacement,
  outdentPlacement,
} from "./blockTree";
import { byDocumentOrder } from "./sync/localApply";
import type { BlockJson } from "./sync/types";

function block(id: string, y: string, parent: string | null = null): BlockJson {
  return {
    block_id: id,
    canvas_id: "c",
    parent_id: parent,
    type: "text",
    content: id,
    props: {},
    y_order: y,
    version: 1,
    created_at: "",
    created_by: null,
    updated_at: "",
    updated_by: null,
  };
}

const ids = (t: ReturnType<typeof buildTree>) => t.rows.map((r) => `${r.block.block_id}@${r.depth}`);

describe("buildTree", () => {
  // Global y_order: a < a1 < b < b1 < c; but children are listed under their parent.
  const blocks = [
    block("a", "a"),
    block("c1", "b", "c"), // child of c, globally before c
    block("b", "c"),
    block("c", "d"),
    block("a1", "e", "a"), // child of a, globally last
    block("a2", "f", "a"),
    block("a1x", "g", "a1"),
  ].sort(byDocumentOrder);
  const tree = buildTree(blocks);

  it("lists children depth-first under their parent, siblings by y_order", () => {
    expect(ids(tree)).toEqual(["a@0", "a1@1", "a1x@2", "a2@1", "b@0", "c@0", "c1@1"]);
    expect(tree.indexById.get("b")).toBe(4);
  });

  it("shows a block whose parent is missing at the top level", () => {
    const t = buildTree([block("x", "a", "gone"), block("y", "b")]);
    expect(ids(t)).toEqual(["x@0", "y@0"]);
    expect(t.parentOf.get("x")).toBeNull();
  });

  it("never drops blocks caught in a parent cycle", () => {
    const t = buildTree([block("p", "a", "q"), block("q", "b", "p"), block("r", "c")]);
    expect(t.rows).toHaveLength(3);
    expect(new Set(t.rows.map((r) => r.block.block_id))).toEqual(new Set(["p", "q", "r"]));
  });

  it("handles 5,000 blocks nested 5,000 deep without recursion", () => {
    const deep: BlockJson[] = [];
    for (let i = 0; i < 5000; i++)
      deep.push(block(`n${i}`, String(i).padStart(5, "0"), i ? `n${i - 1}` : null));
    const t = buildTree(deep);
    expect(t.rows.at(-1)?.depth).toBe(4999);
  });

  it("move up / down swap with the neighbouring sibling only", () => {
    expect(moveUpPlacement(tree, "a2")).toEqual({ parent_id: "a", position: { before: "a1" } });
    expect(moveUpPlacement(tree, "a1")).toBeNull();
    expect(moveDownPlacement(tree, "a")).toEqual({ parent_id: null, position: { after: "b" } });
    expect(moveDownPlacement(tree, "c")).toBeNull();
  });

  it("indent makes the block the last child of its previous sibling", () => {
    expect(indentPlacement(tree, "b")).toEqual({ parent_id: "a", position: { after: "a2" } });
    expect(indentPlacement(tree, "a2")).toEqual({ parent_id: "a1", position: { after: "a1x" } });
    expect(indentPlacement(tree, "c")).toEqual({ parent_id: "b" }); // b has no children
    expect(indentPlacement(tree, "a")).toBeNull(); // first at top level
  });

  it("outdent puts the block right after its parent", () => {
    expect(outdentPlacement(tree, "a1x")).toEqual({ parent_id: "a", position: { after: "a1" } });
    expect(outdentPlacement(tree, "a1")).toEqual({ parent_id: null, position: { after: "a" } });
    expect(outdentPlacement(tree, "b")).toBeNull();
  });

  it("Enter inserts a first child under a parent, else a next sibling", () => {
    expect(newBlockPlacement(tree, "a")).toEqual({ parent_id: "a", position: { before: "a1" } });
    expect(newBlockPlacement(tree, "b")).toEqual({ parent_id: null, position: { after: "b" } });
    expect(newBlockPlacement(tree, "a1x")).toEqual({ parent_id: "a1", position: { after: "a1x" } });
  });

  it("dropping onto a row makes a sibling of it, never into the dragged block's own subtree", () => {
    expect(dropPlacement(tree, "b", "a1", "before")).toEqual({ parent_id: "a", position: { before: "a1" } });
    expect(dropPlacement(tree, "a1x", "c", "after")).toEqual({ parent_id: null, position: { after: "c" } });
    expect(dropPlacement(tree, "a", "a1x", "after")).toBeNull();
    expect(dropPlacement(tree, "a", "a", "after")).toBeNull();
  });

  it("neighbourIndex walks visible rows and stops at the ends", () => {
    expect(neighbourIndex(tree, "a2", -1)).toBe(2);
    expect(neighbourIndex(tree, "a", -1)).toBeNull();
    expect(neighbourIndex(tree, "c1", 1)).toBeNull();
  });
});
