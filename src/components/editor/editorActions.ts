import { createBlockCommands } from "./actions/blockCommands";
import { createDragDrop } from "./actions/dragDrop";
import { createEditorFocus } from "./actions/focus";
import { createKeyboard } from "./actions/keyboard";
import type { AllEditorActions, EditorContext } from "./types";

/**
 * Everything a keystroke, a menu item or a drop does to the canvas. One object for the editor's
 * lifetime (rows are memoised on it); it reads the current engine state through `get()`. The
 * parts: actions/focus.ts (where focus and the caret go), actions/blockCommands.ts (what changes
 * the canvas, one undo step per gesture), actions/keyboard.ts, actions/dragDrop.ts.
 */
export function createEditorActions(get: () => EditorContext): AllEditorActions {
  const focus = createEditorFocus(get);
  const commands = createBlockCommands(get, focus);
  const keyboard = createKeyboard(get, focus, commands);
  const dragDrop = createDragDrop(get, commands);
  return {
    input(id, before, after, caret) {
      focus.forgetKept();
      return commands.input(id, before, after, caret);
    },
    keyDown: keyboard.keyDown,
    globalKeyDown: keyboard.globalKeyDown,
    toggleTodo: commands.toggleTodo,
    menu: commands.menu,
    unavailable: commands.unavailable,
    addBlock: commands.addBlock,
    setMenuOpen: focus.setMenuOpen,
    register: focus.register,
    registerMenuButton: focus.registerMenuButton,
    focus: focus.block,
    afterRender: focus.applyRequest,
    ...dragDrop,
  };
}
