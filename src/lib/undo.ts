import { type as textType } from "ot-text-unicode";
import type { RemoteOpInfo, SyncEngine, UpdateFields } from "./sync";
import { diffOp, invertTextOp, isNoopTextOp } from "./sync/localApply";
import type { BlockJson, Op, OpEvent, TextOp } from "./sync/types";

/**
 * UI-5: undo / redo of the user's own operations. Every step is stored as the ops that revert it
 * and goes back through the engine's public API, so an undo is queued, sent, batched and
 * conflict-checked like any edit (and survives a reload in the pending queue).
 *
 * Block ids: the server never re-uses a block_id (create answers `exists` for a deleted one), so
 * undoing a delete re-creates the block under a new id; `alias` maps the old id to the new one
 * and every stored step resolves ids through it, so undo/redo chains keep working.
 *
 * Text: both stacks are chains — the top step applies to the current content, the one below to
 * the content after the top one was undone, and so on. A remote text op is transformed down each
 * chain (the step's op "left", the remote op "right", and the remote op carried past each step), so
 * undoing a text edit only removes what the user typed and keeps what others typed since. A
 * remote wholesale content replace (or a conflict on the block) invalidates the text steps of that
 * block: they are dropped rather than applied at positions that no longer mean anything.
 *
 * Fields (type, props keys, parent) are put back only while they still hold the value our op set:
 * someone else's later change is never clobbered by an undo.
 */

export { diffOp };

type BlockType = BlockJson["type"];

interface Fields {
  type?: BlockType;
  parent_id?: string | null;
  /** A props patch: null removes a key (as the server merges props). */
  props?: Record<string, unknown>;
}

type Part =
  | { kind: "text"; id: string; op: TextOp }
  | { kind: "fields"; id: string; set: Fields; expect: Fields }
  | { kind: "move"; id: string; prev: string | null; next: string | null }
  | { kind: "delete"; id: string }
  | { kind: "recreate"; blocks: BlockJson[]; prev: string | null; next: string | null };

/** Where the caret is, or goes: a block and a UTF-16 selection in its text. */
export interface UndoCaret {
  blockId: string;
  start: number;
  end: number;
}

interface Step {
  /** Applied last to first (the reverse of how the user's op made them). */
  parts: Part[];
  /** Where the caret goes when this step is replayed (ids resolved through `alias` then). */
  caret?: UndoCaret;
}

export interface UndoOptions {
  /** Keystrokes on one block within this window are one undo step. */
  groupMs?: number;
  now?: () => number;
  /** Steps kept on the undo stack. */
  limit?: number;
}

export class UndoManager {
  private undoStack: Step[] = [];
  private redoStack: Step[] = [];
  private alias = new Map<string, string>();
  private listeners = new Set<() => void>();
  private replaying = false;
  /** The keystroke step still open for grouping. */
  private typing: { step: Step; blockId: string; at: number } | null = null;
  private seenConflicts = new Set<string>();
  /** The step being filled by transact(). */
  private batch: Step | null = null;
  /** Where the caret belongs after the latest undo / redo. */
  private lastCaret: UndoCaret | null = null;
  private readonly offs: (() => void)[];
  private readonly groupMs: number;
  private readonly now: () => number;
  private readonly limit: number;

  constructor(
    private readonly engine: SyncEngine,
    opts: UndoOptions = {},
  ) {
    this.groupMs = opts.groupMs ?? 1000;
    this.now = opts.now ?? Date.now;
    this.limit = opts.limit ?? 500;
    for (const c of engine.getSnapshot().conflicts) this.seenConflicts.add(c.id);
    this.offs = [
      engine.onLocalOp((op, before) => this.record(op, before)),
      engine.onRemoteOp((event, info) => this.remote(event, info)),
      engine.subscribe(() => this.watchConflicts()),
    ];
  }

  canUndo(): boolean {
    return this.undoStack.length > 0;
  }

  canRedo(): boolean {
    return this.redoStack.length > 0;
  }

  /**
   * Reverts the latest own step still applicable; false when there is none. `here` is where the
   * caret is now: redoing the step puts it back there.
   */
  undo(here?: UndoCaret): boolean {
    return this.replay(this.undoStack, this.redoStack, here);
  }

  redo(here?: UndoCaret): boolean {
    return this.replay(this.redoStack, this.undoStack, here);
  }

  /**
   * Where the caret belongs after the latest successful undo / redo: where it was before the
   * gesture (transact's `caret`), else where the reverted text change happened, else at the end of
   * a re-created block; null when the step says nothing about it (keep the caret where it is).
   */
  caret(): UndoCaret | null {
    return this.lastCaret;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Runs `fn` and records every own op it makes as one undo step (a gesture of several ops, such
   * as Enter splitting a block: a text edit and a create). Nested calls join the outer one.
   * `caret` is where the caret was before the gesture: undoing it puts the caret back there.
   */
  transact(fn: () => void, caret?: UndoCaret): void {
    if (this.batch) {
      fn();
      return;
    }
    this.batch = caret ? { parts: [], caret: { ...caret } } : { parts: [] };
    try {
      fn();
    } finally {
      this.batch = null;
    }
  }

  /** Idempotent: stops listening to the engine and forgets both stacks. */
  stop(): void {
    for (const off of this.offs) off();
    this.offs.length = 0;
    this.undoStack = [];
    this.redoStack = [];
    this.typing = null;
    this.lastCaret = null;
    this.changed();
  }

  // ---- recording -------------------------------------------------------------------------

  private record(op: Op, before: BlockJson | undefined): void {
    if (this.replaying) return;
    const parts = this.invert(op, before);
    if (parts === null) return;
    this.redoStack = [];
    if (this.batch) {
      // One gesture (transact): later ops' inverses run first, as parts run last to first.
      if (this.batch.parts.length === 0) this.push(this.batch);
      this.batch.parts.push(...parts);
      this.typing = null;
      this.changed();
      return;
    }
    const keystroke = op.action === "update" && op.text_op !== undefined && parts.length === 1;
    const open = this.typing;
    const now = this.now();
    const top = this.undoStack.at(-1);
    if (
      keystroke &&
      open &&
      open.step === top &&
      open.blockId === op.block_id &&
      now - open.at < this.groupMs &&
      parts[0]?.kind === "text" &&
      top.parts.length === 1 &&
      top.parts[0]?.kind === "text"
    ) {
      // Undoing the group: this keystroke's inverse first, then the earlier ones.
      top.parts[0].op = textType.compose(parts[0].op, top.parts[0].op);
      open.at = now;
      this.changed();
      return;
    }
    const step: Step = { parts };
    this.push(step);
    this.typing = keystroke ? { step, blockId: op.block_id, at: now } : null;
    this.changed();
  }

  private push(step: Step): void {
    this.undoStack.push(step);
    if (this.undoStack.length > this.limit) this.undoStack.shift();
  }

  /** The parts that revert `op` (made on `before`, the view before it); null: nothing to undo. */
  private invert(op: Op, before: BlockJson | undefined): Part[] | null {
    const id = op.block_id;
    if (op.action === "create") return [{ kind: "delete", id }];
    if (!before) return null;
    if (op.action === "delete") return [this.recreatePart(before)];
    const parts: Part[] = [];
    if (op.text_op !== undefined) {
      try {
        const inv = invertTextOp(op.text_op as TextOp, before.content);
        parts.push({ kind: "text", id, op: inv });
      } catch {
        // The keystroke did not fit the text it was made on: nothing sensible to revert.
      }
    }
    if (op.content !== undefined) {
      const inv = diffOp(op.content, before.content);
      if (inv) parts.push({ kind: "text", id, op: inv });
    }
    const set: Fields = {};
    const expect: Fields = {};
    if (op.type !== undefined && op.type !== before.type) {
      set.type = before.type;
      expect.type = op.type;
    }
    if (op.parent_id !== undefined && op.parent_id !== before.parent_id) {
      set.parent_id = before.parent_id;
      expect.parent_id = op.parent_id;
    }
    if (op.props !== undefined) {
      const back: Record<string, unknown> = {};
      const now: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(op.props)) {
        const was = before.props[k] ?? null;
        if (same(was, v)) continue;
        back[k] = was;
        now[k] = v;
      }
      if (Object.keys(back).length > 0) {
        set.props = back;
        expect.props = now;
      }
    }
    if (Object.keys(set).length > 0) parts.push({ kind: "fields", id, set, expect });
    if (op.position !== undefined) parts.push({ kind: "move", id, ...this.neighbours(id) });
    return parts.length > 0 ? parts : null;
  }

  // ---- replaying -------------------------------------------------------------------------

  private replay(from: Step[], to: Step[], here: UndoCaret | undefined): boolean {
    this.typing = null;
    this.lastCaret = null;
    for (let step = from.pop(); step; step = from.pop()) {
      const inverse: Part[] = [];
      let touched: UndoCaret | null = null;
      this.replaying = true;
      try {
        for (const part of [...step.parts].reverse()) {
          const inv = this.apply(part);
          if (!inv) continue;
          inverse.push(inv);
          touched = this.caretAfter(part, inv) ?? touched;
        }
      } finally {
        this.replaying = false;
      }
      if (inverse.length > 0) {
        to.push(here ? { parts: inverse, caret: { ...here } } : { parts: inverse });
        this.lastCaret = step.caret ? this.resolveCaret(step.caret) : touched;
        this.changed();
        return true;
      }
      // Nothing of this step applies any more (its block is gone): try the next one.
    }
    this.changed();
    return false;
  }

  /** Where an applied part leaves the caret (`inv` is what apply() returned for it). */
  private caretAfter(part: Part, inv: Part): UndoCaret | null {
    if (part.kind === "text") {
      const id = this.resolve(part.id);
      const at = changeEnd(part.op, this.view(id)?.content ?? "");
      return at === null ? null : { blockId: id, start: at, end: at };
    }
    if (part.kind === "recreate" && inv.kind === "delete") {
      const id = this.resolve(inv.id);
      const at = this.view(id)?.content.length ?? 0;
      return { blockId: id, start: at, end: at };
    }
    return null;
  }

  private resolveCaret(c: UndoCaret): UndoCaret {
    return { ...c, blockId: this.resolve(c.blockId) };
  }

  /** Applies one part through the engine; returns the part that reverts it. */
  private apply(part: Part): Part | null {
    if (part.kind === "recreate") return this.recreate(part);
    const id = this.resolve(part.id);
    const b = this.view(id);
    if (!b) return null;
    switch (part.kind) {
      case "text": {
        if (isNoopTextOp(part.op)) return null;
        let back: TextOp;
        try {
          textType.apply(b.content, part.op);
          back = invertTextOp(part.op, b.content);
        } catch {
          return null; // no longer fits (should not happen: the chain is kept transformed)
        }
        this.engine.editText(id, part.op);
        return { kind: "text", id: part.id, op: back };
      }
      case "fields": {
        const set: Fields = {};
        const back: Fields = {};
        const expect: Fields = {};
        if (part.set.type !== undefined && b.type === part.expect.type) {
          set.type = part.set.type;
          back.type = b.type;
          expect.type = part.set.type;
        }
        if (part.set.parent_id !== undefined && b.parent_id === this.resolveNullable(part.expect.parent_id)) {
          const target = this.resolveNullable(part.set.parent_id);
          if (target === null || (this.view(target) && !this.isUnder(target, id))) {
            set.parent_id = target;
            back.parent_id = b.parent_id;
            expect.parent_id = target;
          }
        }
        if (part.set.props && part.expect.props) {
          const props: Record<string, unknown> = {};
          const backProps: Record<string, unknown> = {};
          for (const [k, v] of Object.entries(part.set.props)) {
            const current = b.props[k] ?? null;
            if (!same(current, part.expect.props[k] ?? null)) continue;
            props[k] = v;
            backProps[k] = current;
          }
          if (Object.keys(props).length > 0) {
            set.props = props;
            back.props = backProps;
            expect.props = props;
          }
        }
        if (Object.keys(set).length === 0) return null;
        this.engine.update(id, set as UpdateFields);
        return { kind: "fields", id: part.id, set: back, expect };
      }
      case "move": {
        const now = this.neighbours(id);
        const position = this.placeBetween(id, part.prev, part.next);
        if (!position) return null;
        this.engine.move(id, position);
        return { kind: "move", id: part.id, ...now };
      }
      case "delete": {
        const back = this.recreatePart(b);
        this.engine.delete(id);
        return back;
      }
    }
  }

  /** A delete's inverse: the block and its descendants (the server deletes them with it). */
  private recreatePart(b: BlockJson): Part {
    const blocks = this.engine.getSnapshot().blocks;
    const family = new Set([b.block_id]);
    const list = [b];
    for (const x of blocks) {
      if (x.parent_id !== null && family.has(x.parent_id) && !family.has(x.block_id)) {
        family.add(x.block_id);
        list.push(x);
      }
    }
    return { kind: "recreate", blocks: list, ...this.neighbours(b.block_id) };
  }

  private recreate(part: Extract<Part, { kind: "recreate" }>): Part | null {
    const [first] = part.blocks;
    if (!first || this.view(this.resolve(first.block_id))) return null;
    const created = new Map<string, string>();
    let previous: string | null = null;
    for (const b of part.blocks) {
      const position = previous ? { after: previous } : this.placeBetween(null, part.prev, part.next);
      const parentOld = b.parent_id;
      const parent =
        parentOld === null
          ? null
          : (created.get(parentOld) ?? (this.view(this.resolve(parentOld)) ? this.resolve(parentOld) : null));
      const id = this.engine.create({
        type: b.type,
        content: b.content,
        props: b.props,
        parent_id: parent,
        ...(position ? { position } : {}),
      });
      created.set(b.block_id, id);
      this.alias.set(this.resolve(b.block_id), id);
      previous = id;
    }
    return { kind: "delete", id: first.block_id };
  }

  // ---- others' edits ---------------------------------------------------------------------

  private remote(event: OpEvent, info: RemoteOpInfo): void {
    if (info.contentReplaced) {
      this.dropText(event.block_id);
      return;
    }
    const theirs = info.viewTextOp;
    if (!theirs) return;
    for (const stack of [this.undoStack, this.redoStack]) {
      let r = theirs;
      for (let i = stack.length - 1; i >= 0; i--) {
        const parts = stack[i]?.parts ?? [];
        for (let j = parts.length - 1; j >= 0; j--) {
          const part = parts[j];
          if (part?.kind !== "text" || this.resolve(part.id) !== event.block_id) continue;
          const mine = textType.transform(part.op, r, "left");
          r = textType.transform(r, part.op, "right");
          part.op = mine;
        }
      }
    }
  }

  /** A conflict dropped one of our ops: the text chain of that block no longer matches the view. */
  private watchConflicts(): void {
    for (const c of this.engine.getSnapshot().conflicts) {
      if (this.seenConflicts.has(c.id)) continue;
      this.seenConflicts.add(c.id);
      this.dropText(c.blockId);
    }
  }

  private dropText(blockId: string): void {
    let dropped = false;
    for (const stack of [this.undoStack, this.redoStack]) {
      for (const step of stack) {
        const kept = step.parts.filter((p) => p.kind !== "text" || this.resolve(p.id) !== blockId);
        if (kept.length !== step.parts.length) {
          step.parts = kept;
          dropped = true;
        }
      }
    }
    if (!dropped) return;
    this.undoStack = this.undoStack.filter((s) => s.parts.length > 0);
    this.redoStack = this.redoStack.filter((s) => s.parts.length > 0);
    if (this.typing && !this.undoStack.includes(this.typing.step)) this.typing = null;
    this.changed();
  }

  // ---- helpers ---------------------------------------------------------------------------

  private resolve(id: string): string {
    let current = id;
    for (let next = this.alias.get(current); next !== undefined; next = this.alias.get(current))
      current = next;
    return current;
  }

  /** `node` is `ancestor` or below it (a parent change there would make a cycle). */
  private isUnder(node: string, ancestor: string): boolean {
    const seen = new Set<string>();
    for (let up: string | null = node; up !== null && !seen.has(up); up = this.view(up)?.parent_id ?? null) {
      if (up === ancestor) return true;
      seen.add(up);
    }
    return false;
  }

  private resolveNullable(id: string | null | undefined): string | null {
    return id ? this.resolve(id) : null;
  }

  private view(id: string): BlockJson | undefined {
    return this.engine.getSnapshot().byId.get(id);
  }

  /** The block's neighbours in document order (null: it is first / last). */
  private neighbours(id: string): { prev: string | null; next: string | null } {
    const blocks = this.engine.getSnapshot().blocks;
    const i = blocks.findIndex((b) => b.block_id === id);
    if (i < 0) return { prev: null, next: null };
    return { prev: blocks[i - 1]?.block_id ?? null, next: blocks[i + 1]?.block_id ?? null };
  }

  /**
   * Where to put a block so it sits between `prev` and `next` again, as far as they still exist;
   * null when it already does (a move would change nothing).
   */
  private placeBetween(
    self: string | null,
    prev: string | null,
    next: string | null,
  ): { after?: string; before?: string } | null {
    const others = this.engine.getSnapshot().blocks.filter((b) => b.block_id !== self);
    const p = prev === null ? null : this.resolve(prev);
    const n = next === null ? null : this.resolve(next);
    const pi = p === null ? -1 : others.findIndex((b) => b.block_id === p);
    const ni = n === null ? -1 : others.findIndex((b) => b.block_id === n);
    let position: { after?: string; before?: string };
    if (pi >= 0) position = { after: p as string };
    else if (ni >= 0) position = { before: n as string };
    else if (prev === null && others[0]) position = { before: others[0].block_id };
    else position = {};
    if (self !== null) {
      const now = this.neighbours(self);
      if (position.after !== undefined ? now.prev === position.after : now.next === (position.before ?? null))
        return null;
    }
    return position;
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The UTF-16 offset in `after` (the text once `op` applied) just past the op's last insert or at
 * its last delete; null for an op that changes nothing.
 */
function changeEnd(op: TextOp, after: string): number | null {
  let at = 0; // code points into `after`
  let end: number | null = null;
  for (const c of op) {
    if (typeof c === "number") at += c;
    else if (typeof c === "string") {
      at += Array.from(c).length;
      end = at;
    } else end = at;
  }
  return end === null ? null : Array.from(after).slice(0, end).join("").length;
}
