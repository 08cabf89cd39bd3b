import { dropPlacement } from "@/lib/blockTree";
import type { DragState, EditorActions, EditorContext } from "../types";
import type { BlockCommands } from "./blockCommands";

const DRAG_MIME = "application/x-potentia-block";

/**
 * UI-2: reordering by the drag handle (HTML5 drag and drop): the row under the pointer shows
 * where the block would go (before / after by the pointer's half), the drop places it there
 * (a new parent and a new place, one undo step).
 */
export function createDragDrop(
  get: () => EditorContext,
  commands: BlockCommands,
): Pick<EditorActions, "dragStart" | "dragOver" | "drop" | "dragEnd"> {
  let dragId: string | null = null;
  let over: DragState["over"] = null;

  return {
    dragStart(id, e) {
      dragId = id;
      over = null;
      e.dataTransfer.effectAllowed = "move";
      e.dataTransfer.setData(DRAG_MIME, id);
      e.dataTransfer.setData("text/plain", commands.block(id)?.content ?? "");
      const row = e.currentTarget.closest<HTMLElement>("[data-block-id]");
      if (row) e.dataTransfer.setDragImage(row, 16, 12);
      get().setDrag({ id, over: null });
    },

    dragOver(id, e) {
      if (!dragId) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = "move";
      const rect = e.currentTarget.getBoundingClientRect();
      const where = e.clientY < rect.top + rect.height / 2 ? "before" : "after";
      if (over?.id === id && over.where === where) return;
      over = id === dragId ? null : { id, where };
      get().setDrag({ id: dragId, over });
    },

    drop(id, e) {
      if (!dragId) return;
      e.preventDefault();
      const dragged = dragId;
      const where = over?.id === id ? over.where : "after";
      dragId = null;
      over = null;
      get().setDrag(null);
      commands.place(dragged, dropPlacement(get().tree, dragged, id, where));
    },

    dragEnd() {
      dragId = null;
      over = null;
      get().setDrag(null);
    },
  };
}
