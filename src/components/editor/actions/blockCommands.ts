import {
  indentPlacement,
  moveDownPlacement,
  moveUpPlacement,
  newBlockPlacement,
  outdentPlacement,
  type Placement,
} from "@/lib/blockTree";
import type { BlockJson, UpdateFields } from "@/lib/sync";
import { textOpFromDiff } from "@/lib/textDiff";
import type { MenuAction } from "../BlockMenu";
import { markdownShortcut } from "../shortcuts";
import type { EditorContext } from "../types";
import type { EditorFocus } from "./focus";

/** UI-2 / UI-5: what the editor does to the canvas, each gesture of several ops one undo step. */
export interface BlockCommands {
  block(id: string): BlockJson | undefined;
  /** The row `delta` places from the block's, in the tree's order. */
  rowAt(id: string, delta: number): BlockJson | undefined;
  /** UI-5: one user gesture of several ops is one undo step; undoing it puts the caret back. */
  gesture(id: string, fn: () => void): void;
  /** A new parent and a new place, as one step; false when there is nothing to do. */
  place(id: string, p: Placement | null): boolean;
  /** A structural text change (split, merge), never composed with the keystrokes before it. */
  editTo(id: string, before: string, after: string): void;
  setType(id: string, type: BlockJson["type"]): void;
  /** Deletes a block; with `lift`, its children move up to its parent instead of going with it. */
  remove(id: string, lift: boolean): void;
  /** A new block below `id` (as its first child when it has children), focused. */
  createAfter(id: string, type: BlockJson["type"], content: string): void;
  moveBy(id: string, dir: "up" | "down"): void;
  indent(id: string, out: boolean): void;
  toggleTodo(id: string): void;
  /** The textarea's value changed (user input): a markdown shortcut or a text edit. */
  input(id: string, before: string, after: string, caret: number): string;
  menu(id: string, action: MenuAction): void;
  unavailable(id: string): ReadonlySet<MenuAction>;
  addBlock(): void;
}

export function createBlockCommands(get: () => EditorContext, focus: EditorFocus): BlockCommands {
  const cmd: BlockCommands = {
    block: (id) => get().state.byId.get(id),

    rowAt(id, delta) {
      const { tree } = get();
      const i = tree.indexById.get(id);
      return i === undefined ? undefined : tree.rows[i + delta]?.block;
    },

    gesture(id, fn) {
      get().undo.transact(fn, focus.caretOf(id));
    },

    place(id, p) {
      const { engine, readOnly } = get();
      const b = cmd.block(id);
      if (!p || !b || readOnly) return false;
      // A new parent and a new place are one gesture (one undo step).
      get().undo.transact(() => {
        if (b.parent_id !== p.parent_id) engine.update(id, { parent_id: p.parent_id });
        if (p.position) engine.move(id, p.position);
      });
      return true;
    },

    editTo(id, before, after) {
      const op = textOpFromDiff(before, after);
      if (!op) return;
      // Flushed first so the engine does not compose it with the keystrokes before it, which
      // could cancel out into an empty (invalid) text_op.
      get().engine.flush();
      get().engine.editText(id, op);
    },

    setType(id, type) {
      const b = cmd.block(id);
      if (!b || b.type === type || get().readOnly) return;
      const fields: UpdateFields = { type };
      if (type === "todo" && typeof b.props.checked !== "boolean")
        fields.props = { ...b.props, checked: false };
      // A divider shows no text: clearing it avoids hidden content coming back on a type change.
      if (type === "divider" && b.content !== "") fields.content = "";
      get().engine.update(id, fields);
    },

    remove(id, lift) {
      const { engine, tree } = get();
      if (lift) {
        const parent = tree.parentOf.get(id) ?? null;
        for (const child of tree.children.get(id) ?? []) engine.update(child, { parent_id: parent });
      }
      engine.delete(id);
    },

    createAfter(id, type, content) {
      const { engine, tree } = get();
      const p = newBlockPlacement(tree, id);
      const newId = engine.create({
        type,
        content,
        ...(type === "todo" ? { props: { checked: false } } : {}),
        parent_id: p.parent_id,
        ...(p.position ? { position: p.position } : {}),
      });
      focus.block(newId, "start");
    },

    moveBy(id, dir) {
      const { tree } = get();
      focus.keep(id);
      cmd.place(id, dir === "up" ? moveUpPlacement(tree, id) : moveDownPlacement(tree, id));
    },

    indent(id, out) {
      const { tree } = get();
      focus.keep(id);
      cmd.place(id, out ? outdentPlacement(tree, id) : indentPlacement(tree, id));
    },

    toggleTodo(id) {
      const b = cmd.block(id);
      if (!b || get().readOnly) return;
      get().engine.update(id, { props: { ...b.props, checked: b.props.checked !== true } });
    },

    input(id, before, after, caret) {
      const b = cmd.block(id);
      if (!b || get().readOnly) return before;
      if (b.type === "text") {
        const sc = markdownShortcut(before, after);
        if (sc) {
          // One op: type and the text without its trigger (a text op here could cancel out the
          // trigger's own keystrokes into an empty op).
          cmd.gesture(id, () => {
            get().engine.update(id, {
              type: sc.type,
              content: sc.content,
              ...(sc.props ? { props: { ...b.props, ...sc.props } } : {}),
            });
            if (sc.type === "divider") cmd.createAfter(id, "text", "");
          });
          if (sc.type !== "divider") focus.block(id, "start");
          return sc.content;
        }
      }
      const op = textOpFromDiff(before, after, caret);
      if (op) get().engine.editText(id, op);
      return after;
    },

    menu(id, action) {
      const { tree } = get();
      get().setMenuId(null);
      switch (action) {
        case "up":
        case "down":
          cmd.place(id, action === "up" ? moveUpPlacement(tree, id) : moveDownPlacement(tree, id));
          focus.menuButton(id)?.focus();
          return;
        case "indent":
        case "outdent":
          cmd.place(id, action === "outdent" ? outdentPlacement(tree, id) : indentPlacement(tree, id));
          focus.menuButton(id)?.focus();
          return;
        case "delete": {
          const prev = cmd.rowAt(id, -1);
          const next = cmd.rowAt(id, 1);
          cmd.remove(id, false);
          const to = prev ?? next;
          if (to) focus.block(to.block_id, prev ? "end" : "start");
          return;
        }
        default:
          cmd.setType(id, action);
          focus.block(id, "end");
      }
    },

    unavailable(id) {
      const { tree } = get();
      const off = new Set<MenuAction>();
      if (!moveUpPlacement(tree, id)) off.add("up");
      if (!moveDownPlacement(tree, id)) off.add("down");
      if (!indentPlacement(tree, id)) off.add("indent");
      if (!outdentPlacement(tree, id)) off.add("outdent");
      return off;
    },

    addBlock() {
      const { engine, readOnly } = get();
      if (readOnly) return;
      const id = engine.create({ type: "text", parent_id: null });
      focus.block(id, "start");
    },
  };
  return cmd;
}
