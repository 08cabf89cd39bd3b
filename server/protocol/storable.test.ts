import { describe, expect, it } from "vitest";
import { MAX_CONTENT_CHARS, opSchema } from "./ops";
import { isStorableText, jsonValueProblem, MAX_INT4, MAX_VALUE_DEPTH, storableObject } from "./storable";

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
const update = (fields: Record<string, unknown>) =>
  opSchema.safeParse({ client_op_id: id(1), block_id: id(2), action: "update", base_version: 1, ...fields });
const firstIssue = (fields: Record<string, unknown>) => {
  const parsed = update(fields);
  expect(parsed.success, Object.keys(fields).join()).toBe(false);
  const issue = parsed.error!.issues[0]!;
  return `${issue.path.join(".")}: ${issue.message}`;
};

/** `[[[…1…]]]` `levels` deep, built without recursion. */
function nested(levels: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < levels; i++) v = [v];
  return v;
}

describe("storable text (SEC-6)", () => {
  it("SEC-6: NUL and unpaired surrogates are not storable; paired surrogates and other controls are", () => {
    for (const bad of ["\u0000", "a\u0000b", "\ud83d", "x\ud83dy", "\ude00", "\ude00\ud83d", "🎉\ud800"])
      expect(isStorableText(bad), JSON.stringify(bad)).toBe(false);
    for (const good of ["", "hello", "🎉", "a🎉b", "\u0001\u001f\u007f", "\u202e", "é", "\ufffd"])
      expect(isStorableText(good), JSON.stringify(good)).toBe(true);
  });

  it("SEC-6: a JSON value is judged by every string and key in it, at any depth within the limit", () => {
    expect(jsonValueProblem({ a: [1, { b: "ok", c: null }] })).toBeNull();
    expect(jsonValueProblem({ a: [1, { b: "x\u0000" }] })).toMatch(/string.*NUL/);
    expect(jsonValueProblem({ a: { "k\ud83d": 1 } })).toMatch(/key.*surrogate/);
    expect(jsonValueProblem(nested(MAX_VALUE_DEPTH))).toBeNull();
    expect(jsonValueProblem(nested(MAX_VALUE_DEPTH + 1))).toMatch(/deeper than 32/);
  });

  it("SEC-6: a value nested 100,000 levels is refused without overflowing the stack", () => {
    expect(() => JSON.stringify(nested(100_000))).toThrow(RangeError);
    expect(jsonValueProblem(nested(100_000))).toMatch(/deeper/);
    expect(storableObject().safeParse({ a: nested(100_000) }).success).toBe(false);
  });
});

describe("op edge rules (SEC-5, SEC-6)", () => {
  it("SEC-6: content, props and text_op strings that PostgreSQL cannot store are refused, field named", () => {
    expect(firstIssue({ content: "a\u0000b" })).toMatch(/^content: .*NUL/);
    expect(firstIssue({ content: "a\ud83d" })).toMatch(/^content: .*surrogate/);
    expect(firstIssue({ props: { a: "\u0000" } })).toMatch(/^props: /);
    expect(firstIssue({ props: { "\u0000": 1 } })).toMatch(/^props: .*key/);
    expect(firstIssue({ props: { a: { b: ["\udc00"] } } })).toMatch(/^props: /);
    expect(firstIssue({ text_op: [1, "\ud83d"] })).toMatch(/^text_op\.1: .*surrogate/);
    expect(firstIssue({ text_op: [{ d: "a\u0000" }] })).toMatch(/^text_op\.0\.d: /);
    // Paired surrogates are ordinary text.
    expect(update({ content: "🎉" }).success).toBe(true);
    expect(update({ text_op: [1, "🎉"] }).success).toBe(true);
  });

  it("SEC-6: base_version beyond the int4 column is refused; its largest value is accepted", () => {
    expect(firstIssue({ base_version: MAX_INT4 + 1, content: "x" })).toMatch(/^base_version: /);
    expect(firstIssue({ base_version: 2 ** 53, content: "x" })).toMatch(/^base_version: /);
    expect(update({ base_version: MAX_INT4, content: "x" }).success).toBe(true);
  });

  it("SEC-6: props nested deeper than 32 levels or over 64 KiB of JSON are refused", () => {
    // props itself is the first level.
    expect(update({ props: { a: nested(MAX_VALUE_DEPTH - 1) } }).success).toBe(true);
    expect(firstIssue({ props: { a: nested(MAX_VALUE_DEPTH) } })).toMatch(/^props: nests deeper/);
    expect(firstIssue({ props: { a: nested(5_000) } })).toMatch(/^props: nests deeper/);
    expect(firstIssue({ props: { a: "x".repeat(64 * 1024) } })).toMatch(/^props: is limited/);
  });

  it("SEC-5: a skip or delete count past the longest text a block can hold is refused at the edge", () => {
    expect(firstIssue({ text_op: [1e8, "x"] })).toMatch(/^text_op\.0: reaches past/);
    expect(firstIssue({ text_op: [9_999_999_999, "x"] })).toMatch(/^text_op\.0: reaches past/);
    expect(firstIssue({ text_op: [{ d: MAX_CONTENT_CHARS + 1 }] })).toMatch(/^text_op\.0\.d: /);
    // Each count fits, their sum does not.
    expect(firstIssue({ text_op: [60_000, { d: 50_000 }] })).toMatch(/skips and deletes 110000/);
    expect(firstIssue({ text_op: ["x".repeat(MAX_CONTENT_CHARS + 1)] })).toMatch(/inserts 100001/);
    // The largest allowed values pass the edge (the rebase holds them against the real text).
    expect(update({ text_op: [MAX_CONTENT_CHARS - 1, "x"] }).success).toBe(true);
    expect(update({ text_op: [{ d: MAX_CONTENT_CHARS }] }).success).toBe(true);
    expect(update({ text_op: [50_000, { d: 50_000 }, "x".repeat(MAX_CONTENT_CHARS)] }).success).toBe(true);
  });
});
