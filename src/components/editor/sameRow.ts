import type { BlockRowProps } from "./types";

/**
 * BlockRow's memo comparison. The engine rebuilds a block's object whenever it has pending ops,
 * so identity alone would re-render every block being edited on each change; compare what the
 * row shows instead. A keystroke therefore re-renders the edited row only.
 */
export function sameRow(a: BlockRowProps, b: BlockRowProps): boolean {
  return (
    a.index === b.index &&
    a.depth === b.depth &&
    a.start === b.start &&
    a.readOnly === b.readOnly &&
    a.menuOpen === b.menuOpen &&
    a.drop === b.drop &&
    a.dragging === b.dragging &&
    a.actions === b.actions &&
    a.measure === b.measure &&
    (a.block === b.block ||
      (a.block.block_id === b.block.block_id &&
        a.block.type === b.block.type &&
        a.block.content === b.block.content &&
        (a.block.props === b.block.props || a.block.props.checked === b.block.props.checked)))
  );
}
