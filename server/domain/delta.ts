import { type TextOp, type as textType } from "ot-text-unicode";
import type { BlockJson, OpEvent } from "../protocol/ops";

/** Applying an `op` event's delta to the block it names (RT-9). */
export type DeltaOutcome =
  | { ok: true; block: BlockJson | null }
  | { ok: false; reason: "unknown_block" | "version_gap" | "bad_text_op" };

/**
 * The block after `event`, from the block before it (`null` once deleted). An update needs the
 * block at exactly the version before the event's; otherwise (or when its text op does not fit)
 * the caller does not have what the delta was made against and must fetch the block or reload —
 * it never shows a state the database does not have. Pure: used by the client engine, the
 * server's text cache and the tests that replay the op log.
 */
export function applyOpEvent(before: BlockJson | undefined, event: OpEvent): DeltaOutcome {
  if (event.action === "delete") return { ok: true, block: null };
  if (event.action === "create") {
    return event.block ? { ok: true, block: event.block } : { ok: false, reason: "unknown_block" };
  }
  if (!before) return { ok: false, reason: "unknown_block" };
  if (before.version !== event.version - 1) return { ok: false, reason: "version_gap" };
  let content = event.set?.content ?? before.content;
  if (event.text_op) {
    try {
      content = textType.apply(content, event.text_op as TextOp);
    } catch {
      return { ok: false, reason: "bad_text_op" };
    }
  }
  return {
    ok: true,
    block: {
      ...before,
      ...event.set,
      content,
      version: event.version,
      ...(event.updated_at !== undefined ? { updated_at: event.updated_at } : {}),
      ...(event.updated_by !== undefined ? { updated_by: event.updated_by } : {}),
    },
  };
}
