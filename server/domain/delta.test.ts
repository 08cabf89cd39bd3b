import { describe, expect, it } from "vitest";
import type { BlockJson, OpEvent } from "../protocol/ops";
import { applyOpEvent } from "./delta";

const block: BlockJson = {
  block_id: "b",
  canvas_id: "c",
  parent_id: null,
  type: "text",
  content: "Hello",
  props: { a: 1 },
  y_order: "i",
  version: 3,
  created_at: "t0",
  created_by: "u",
  updated_at: "t1",
  updated_by: "u",
};
const event = (extra: Partial<OpEvent>): OpEvent => ({
  type: "op",
  server_seq: 10,
  prev_seq: 9,
  client_op_id: "op",
  user_id: "v",
  action: "update",
  block_id: "b",
  version: 4,
  updated_at: "t2",
  updated_by: "v",
  ...extra,
});

describe("applyOpEvent (RT-9)", () => {
  it("RT-9: a text delta applies its text op and takes the new version, time and author", () => {
    expect(applyOpEvent(block, event({ text_op: [5, "!"] }))).toEqual({
      ok: true,
      block: { ...block, content: "Hello!", version: 4, updated_at: "t2", updated_by: "v" },
    });
  });

  it("RT-9: a field delta sets only what it carries; a create gives its block; a delete removes it", () => {
    const out = applyOpEvent(
      block,
      event({ set: { type: "quote", props: { a: 2 }, parent_id: "p", y_order: "j" } }),
    );
    expect(out).toEqual({
      ok: true,
      block: {
        ...block,
        type: "quote",
        props: { a: 2 },
        parent_id: "p",
        y_order: "j",
        version: 4,
        updated_at: "t2",
        updated_by: "v",
      },
    });
    expect(applyOpEvent(undefined, event({ action: "create", version: 1, block }))).toEqual({
      ok: true,
      block,
    });
    expect(applyOpEvent(block, event({ action: "delete" }))).toEqual({ ok: true, block: null });
  });

  it("RT-9: a delta it cannot apply is reported, never guessed: unknown block, version gap, text that does not fit", () => {
    expect(applyOpEvent(undefined, event({ text_op: ["x"] }))).toEqual({
      ok: false,
      reason: "unknown_block",
    });
    expect(applyOpEvent(block, event({ version: 6, text_op: ["x"] }))).toEqual({
      ok: false,
      reason: "version_gap",
    });
    expect(applyOpEvent(block, event({ text_op: [50, "x"] }))).toEqual({ ok: false, reason: "bad_text_op" });
  });
});
