import type { BlockJson } from "./sync/types";

/** One visible row: a block and how deep it is nested. */
export interface TreeRow {
  block: BlockJson;
  depth: number;
}

export interface BlockTree {
  /** Depth-first document order: each block followed by its children (siblings by y_order). */
  rows: TreeRow[];
  indexById: Map<string, number>;
  /** Children ids per parent id (null: top level), in sibling order. */
  children: Map<string | null, string[]>;
  /** The effective parent (null when the stored parent is missing, e.g. deleted). */
  parentOf: Map<string, string | null>;
}

/**
 * Builds the tree view from blocks already sorted in document order (y_order, SyncState.blocks).
 * A block whose parent is not present is shown at the top level; blocks caught in a cycle (only
 * possible transiently in an optimistic view) are appended at the top level, so nothing vanishes.
 */
export function buildTree(blocks: readonly BlockJson[]): BlockTree {
  const present = new Set(blocks.map((b) => b.block_id));
  const children = new Map<string | null, string[]>();
  const parentOf = new Map<string, string | null>();
  const byId = new Map<string, BlockJson>();
  for (const b of blocks) {
    byId.set(b.block_id, b);
    const parent = b.parent_id !== null && present.has(b.parent_id) ? b.parent_id : null;
    parentOf.set(b.block_id, parent);
    const list = children.get(parent);
    if (list) list.push(b.block_id);
    else children.set(parent, [b.block_id]);
  }
  const rows: TreeRow[] = [];
  const seen = new Set<string>();
  const walk = (rootIds: readonly string[]) => {
    // Iterative DFS: deeply nested canvases must not overflow the stack.
    const stack: { id: string; depth: number }[] = [];
    for (let i = rootIds.length - 1; i >= 0; i--) stack.push({ id: rootIds[i] as string, depth: 0 });
    while (stack.length > 0) {
      const { id, depth } = stack.pop() as { id: string; depth: number };
      if (seen.has(id)) continue;
      seen.add(id);
      rows.push({ block: byId.get(id) as BlockJson, depth });
      const kids = children.get(id) ?? [];
      for (let i = kids.length - 1; i >= 0; i--) stack.push({ id: kids[i] as string, depth: depth + 1 });
    }
  };
  walk(children.get(null) ?? []);
  if (rows.length < blocks.length) {
    for (const b of blocks) {
      if (seen.has(b.block_id)) continue;
      parentOf.set(b.block_id, null);
      walk([b.block_id]);
    }
  }
  const indexById = new Map<string, number>();
  for (const [i, r] of rows.entries()) indexById.set(r.block.block_id, i);
  return { rows, indexById, children, parentOf };
}

/** A new place for a block: its parent and a position among the canvas's blocks (engine.move). */
export interface Placement {
  parent_id: string | null;
  position?: { after?: string; before?: string };
}

function siblings(tree: BlockTree, id: string): { list: string[]; at: number } {
  const list = tree.children.get(tree.parentOf.get(id) ?? null) ?? [];
  return { list, at: list.indexOf(id) };
}

/**
 * y_order is one order over the whole canvas, so "after sibling S" alone lands between S and
 * whatever follows S globally, which is still before S's next sibling; that is why one neighbour
 * is always enough here.
 */
export function moveUpPlacement(tree: BlockTree, id: string): Placement | null {
  const { list, at } = siblings(tree, id);
  const prev = at > 0 ? list[at - 1] : undefined;
  return prev ? { parent_id: tree.parentOf.get(id) ?? null, position: { before: prev } } : null;
}

export function moveDownPlacement(tree: BlockTree, id: string): Placement | null {
  const { list, at } = siblings(tree, id);
  const next = at >= 0 ? list[at + 1] : undefined;
  return next ? { parent_id: tree.parentOf.get(id) ?? null, position: { after: next } } : null;
}

/** Indent: become the last child of the previous sibling. */
export function indentPlacement(tree: BlockTree, id: string): Placement | null {
  const { list, at } = siblings(tree, id);
  const prev = at > 0 ? list[at - 1] : undefined;
  if (!prev) return null;
  const last = (tree.children.get(prev) ?? []).at(-1);
  return { parent_id: prev, ...(last ? { position: { after: last } } : {}) };
}

/** Outdent: become the sibling right after the current parent. */
export function outdentPlacement(tree: BlockTree, id: string): Placement | null {
  const parent = tree.parentOf.get(id) ?? null;
  if (parent === null) return null;
  return { parent_id: tree.parentOf.get(parent) ?? null, position: { after: parent } };
}

/** Where Enter puts the new block: first child when the block has children, else the next sibling. */
export function newBlockPlacement(tree: BlockTree, id: string): Placement {
  const first = (tree.children.get(id) ?? [])[0];
  if (first) return { parent_id: id, position: { before: first } };
  return { parent_id: tree.parentOf.get(id) ?? null, position: { after: id } };
}

export function isDescendant(tree: BlockTree, id: string, ancestor: string): boolean {
  let p = tree.parentOf.get(id) ?? null;
  for (let guard = 0; p !== null && guard < tree.rows.length; guard++) {
    if (p === ancestor) return true;
    p = tree.parentOf.get(p) ?? null;
  }
  return false;
}

/** Dropping `dragged` before/after the row `target`: it becomes target's sibling. */
export function dropPlacement(
  tree: BlockTree,
  dragged: string,
  target: string,
  where: "before" | "after",
): Placement | null {
  if (dragged === target || isDescendant(tree, target, dragged)) return null;
  const parent = tree.parentOf.get(target) ?? null;
  return { parent_id: parent, position: where === "before" ? { before: target } : { after: target } };
}

/** The visible row index to focus when moving by `delta` rows, clamped; null when out of range. */
export function neighbourIndex(tree: BlockTree, id: string, delta: number): number | null {
  const i = tree.indexById.get(id);
  if (i === undefined) return null;
  const j = i + delta;
  return j >= 0 && j < tree.rows.length ? j : null;
}
