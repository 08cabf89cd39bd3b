import { describe, expect, it } from "vitest";
import {
  fieldDiff as anyFieldDiff,
  type ConflictFieldValues,
  conflictFields,
  conflictSubject,
  type DiffContext,
  type DiffPart,
  diffJsonLines,
  diffText,
  type FieldDiff,
  prettyJson,
  propLabel,
  sameChange,
  type TextFieldDiff,
  textSnippet,
  textTokens,
  type ValueFieldDiff,
} from "./conflictDiff";

/** fieldDiff of a field shown as text or JSON (the test fails if it is shown as values). */
function fieldDiff(f: ConflictFieldValues): TextFieldDiff {
  const d: FieldDiff = anyFieldDiff(f);
  if (d.kind === "value") throw new Error(`${f.field} is shown as values`);
  return d;
}

/** fieldDiff of a field shown as readable values. */
function valueDiff(f: ConflictFieldValues, context?: DiffContext): ValueFieldDiff {
  const d = anyFieldDiff(f, context);
  if (d.kind !== "value") throw new Error(`${f.field} is shown as ${d.kind}`);
  return d;
}

/** A side's lines as a person reads them: "-" removed, "+" added, "=" kept; [x]/[ ] a box. */
const read = (lines: ValueFieldDiff["theirs"]) =>
  lines.map((l) => {
    const mark = l.kind === "ins" ? "+" : l.kind === "del" ? "-" : "=";
    const box = l.value.checkbox === undefined ? "" : l.value.checkbox ? "[x] " : "[ ] ";
    return `${mark} ${box}${l.value.text}`;
  });

/** The text a column spells when read as the base (same + del) or as the new side (same + ins). */
const spell = (parts: DiffPart[], side: "old" | "new", sep = "") =>
  parts
    .filter((p) => p.kind === "same" || p.kind === (side === "old" ? "del" : "ins"))
    .map((p) => p.text)
    .join(sep);

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

describe("diffText (word diff of strings)", () => {
  it("marks the replaced word and the appended words, keeping the rest", () => {
    const parts = diffText("The quick brown fox", "The slow brown fox jumps");
    expect(parts).toEqual([
      { kind: "same", text: "The " },
      { kind: "del", text: "quick" },
      { kind: "ins", text: "slow" },
      { kind: "same", text: " brown fox" },
      { kind: "ins", text: " jumps" },
    ]);
  });

  it("is a single unchanged part when nothing changed, and nothing for two empty strings", () => {
    expect(diffText("same text", "same text")).toEqual([{ kind: "same", text: "same text" }]);
    expect(diffText("", "")).toEqual([]);
  });

  it("shows everything inserted against an empty base and everything deleted for an empty side", () => {
    expect(diffText("", "new words")).toEqual([{ kind: "ins", text: "new words" }]);
    expect(diffText("old words", "")).toEqual([{ kind: "del", text: "old words" }]);
  });

  it("never splits an emoji with a modifier or a ZWJ sequence, nor a combining accent", () => {
    const cases: [string, string][] = [
      ["hi 👨‍👩‍👧 there", "hi 👨‍👩‍👦 there"],
      ["thumb 👍🏽 ok", "thumb 👍🏿 ok"],
      ["cafe\u0301 au lait", "café au lait"],
      ["😀😀😀", "😀😃😀"],
      ["日本語のテキスト", "日本語の文章"],
    ];
    for (const [base, next] of cases) {
      const parts = diffText(base, next);
      expect(spell(parts, "old")).toBe(base);
      expect(spell(parts, "new")).toBe(next);
      for (const p of parts) expect(LONE_SURROGATE.test(p.text)).toBe(false);
    }
    const family = diffText("hi 👨‍👩‍👧 there", "hi 👨‍👩‍👦 there");
    expect(family).toContainEqual({ kind: "del", text: "👨‍👩‍👧" });
    expect(family).toContainEqual({ kind: "ins", text: "👨‍👩‍👦" });
    const tone = diffText("thumb 👍🏽 ok", "thumb 👍🏿 ok");
    expect(tone).toContainEqual({ kind: "del", text: "👍🏽" });
    expect(tone).toContainEqual({ kind: "ins", text: "👍🏿" });
  });

  it("keeps newlines, so multi-line code blocks read back exactly", () => {
    const base = "function a() {\n  return 1;\n}";
    const next = "function a() {\n  return 2;\n}\n";
    const parts = diffText(base, next);
    expect(spell(parts, "old")).toBe(base);
    expect(spell(parts, "new")).toBe(next);
    expect(parts).toContainEqual({ kind: "del", text: "1" });
    expect(parts).toContainEqual({ kind: "ins", text: "2" });
  });

  it("falls back to delete-all / insert-all for huge, entirely different texts", () => {
    const base = Array.from({ length: 5000 }, (_, i) => `a${i}`).join(" ");
    const next = Array.from({ length: 5000 }, (_, i) => `b${i}`).join(" ");
    expect(diffText(base, next)).toEqual([
      { kind: "del", text: base },
      { kind: "ins", text: next },
    ]);
  });

  it("tokenizes into whole words and spaces", () => {
    expect(textTokens("a bc, d")).toEqual(["a", " ", "bc", ",", " ", "d"]);
    expect(textTokens("")).toEqual([]);
  });
});

describe("prettyJson and diffJsonLines", () => {
  it("sorts keys so that key order alone is never a change", () => {
    expect(prettyJson({ b: 1, a: { d: 2, c: [3, { z: 1, y: 2 }] } })).toBe(
      prettyJson({ a: { c: [3, { y: 2, z: 1 }], d: 2 }, b: 1 }),
    );
    expect(prettyJson(undefined)).toBe("");
    expect(prettyJson(null)).toBe("null");
    expect(prettyJson("heading")).toBe('"heading"');
  });

  it("marks only the changed lines, one part per line", () => {
    const base = prettyJson({ checked: false, level: 1 });
    const next = prettyJson({ checked: true, level: 1 });
    const parts = diffJsonLines(base, next);
    expect(parts).toEqual([
      { kind: "same", text: "{" },
      { kind: "del", text: '  "checked": false,' },
      { kind: "ins", text: '  "checked": true,' },
      { kind: "same", text: '  "level": 1' },
      { kind: "same", text: "}" },
    ]);
    expect(spell(parts, "old", "\n")).toBe(base);
    expect(spell(parts, "new", "\n")).toBe(next);
  });

  it("compares the last line like any other (an added key after it)", () => {
    const base = prettyJson({ a: 1 });
    const next = prettyJson({ a: 1, b: 2 });
    const parts = diffJsonLines(base, next);
    expect(spell(parts, "old", "\n")).toBe(base);
    expect(spell(parts, "new", "\n")).toBe(next);
    expect(parts.filter((p) => p.kind === "ins").map((p) => p.text)).toEqual(['  "a": 1,', '  "b": 2']);
  });
});

describe("fieldDiff", () => {
  it("diffs content as text, theirs and mine each against the base", () => {
    const d = fieldDiff({
      field: "content",
      base: "Hello world",
      theirs: "Hello there world",
      mine: "Hi world",
    });
    expect(d.kind).toBe("text");
    expect(d.label).toBe("Text");
    expect(d.base).toBe("Hello world");
    expect(spell(d.theirs, "new")).toBe("Hello there world");
    expect(d.theirs).toContainEqual({ kind: "ins", text: "there " });
    expect(spell(d.mine, "new")).toBe("Hi world");
    expect(d.mine).toContainEqual({ kind: "del", text: "Hello" });
    expect(d.mine).toContainEqual({ kind: "ins", text: "Hi" });
    expect(d.changed).toEqual({ theirs: true, mine: true });
  });

  it("MUT-10: props read as labelled values, a todo's checked as a box, mine as its patch applied", () => {
    const d = valueDiff({
      field: "props",
      base: { checked: false, language: "JavaScript" },
      theirs: { checked: true, language: "JavaScript" },
      // A patch: language changes, checked stays as it was.
      mine: { language: "TypeScript", wrap: true },
    });
    expect(d.label).toBe("Properties");
    expect(read(d.base)).toEqual(["= [ ] Done", "= Language: JavaScript"]);
    expect(read(d.theirs)).toEqual(["- [ ] Done", "+ [x] Done", "= Language: JavaScript"]);
    expect(read(d.mine)).toEqual([
      "= [ ] Done",
      "- Language: JavaScript",
      "+ Language: TypeScript",
      "+ Wrap: yes",
    ]);
    expect(d.changed).toEqual({ theirs: true, mine: true });
    // A null in the patch removes the key; nothing in the panel is JSON.
    const removed = valueDiff({
      field: "props",
      base: { language: "Go" },
      theirs: {},
      mine: { language: null },
    });
    expect(read(removed.mine)).toEqual(["- Language: Go"]);
    const texts = [d, removed].flatMap((x) => [...x.base, ...x.theirs, ...x.mine]).map((l) => l.value.text);
    for (const t of texts) expect(t).not.toMatch(/[{}"[\]]/);
  });

  it("MUT-10: block types read as the editor names them (Text → Quote), not as JSON", () => {
    const type = valueDiff({ field: "type", base: "text", theirs: "quote", mine: "heading" });
    expect(type.label).toBe("Block type");
    expect(read(type.base)).toEqual(["= Text"]);
    expect(read(type.theirs)).toEqual(["- Text", "+ Quote"]);
    expect(read(type.mine)).toEqual(["- Text", "+ Heading"]);
    const same = valueDiff({ field: "type", base: "todo", theirs: "todo", mine: "code" });
    expect(read(same.theirs)).toEqual(["= Todo"]);
    expect(same.changed).toEqual({ theirs: false, mine: true });
  });

  it("MUT-10: a parent reads as the block the page shows (or Top level); a position as moved", () => {
    const PARENT = "3f1c2a9e-0000-4000-8000-000000000001";
    const names: DiffContext = {
      blockName: (id) => (id === PARENT ? "Text block 2 “Groceries”" : undefined),
    };
    const parent = valueDiff({ field: "parent_id", base: null, theirs: PARENT, mine: null }, names);
    expect(parent.label).toBe("Parent block");
    expect(parent.absent).toEqual({ base: false, theirs: false, mine: false });
    expect(read(parent.base)).toEqual(["= Top level"]);
    expect(read(parent.theirs)).toEqual(["- Top level", "+ Text block 2 “Groceries”"]);
    expect(read(parent.mine)).toEqual(["= Top level"]);
    expect(parent.changed).toEqual({ theirs: true, mine: false });
    // A parent the page no longer has is still said in words, never as an id.
    expect(read(valueDiff({ field: "parent_id", base: null, theirs: PARENT, mine: null }).theirs)).toEqual([
      "- Top level",
      "+ a block no longer on the page",
    ]);

    const position = valueDiff({ field: "position", base: "m", theirs: "t", mine: { after: PARENT } });
    expect(read(position.base)).toEqual(["= Where it was"]);
    expect(read(position.theirs)).toEqual(["- Where it was", "+ Moved"]);
    expect(read(position.mine)).toEqual(["- Where it was", "+ Moved"]);
    expect(
      read(valueDiff({ field: "position", base: "m", theirs: "m", mine: { before: PARENT } }).theirs),
    ).toEqual(["= Where it was"]);
  });

  it("names unknown properties from their keys", () => {
    expect(propLabel("heading_level")).toBe("Heading level");
    expect(propLabel("textColor")).toBe("Text color");
    expect(propLabel("checked")).toBe("Done");
  });

  it("reports an unchanged side as unchanged", () => {
    const d = fieldDiff({ field: "content", base: "same", theirs: "same", mine: "mine" });
    expect(d.changed).toEqual({ theirs: false, mine: true });
    expect(d.theirs).toEqual([{ kind: "same", text: "same" }]);
  });

  it("treats a null or undefined side as absent, not as the empty string", () => {
    const gone = fieldDiff({ field: "content", base: "kept text", theirs: null, mine: "kept text!" });
    expect(gone.kind).toBe("text");
    expect(gone.absent).toEqual({ base: false, theirs: true, mine: false });
    expect(gone.theirs).toEqual([{ kind: "del", text: "kept text" }]);
    expect(gone.changed.theirs).toBe(true);

    const noBase = fieldDiff({ field: "content", base: undefined, theirs: null, mine: "my text" });
    expect(noBase.kind).toBe("text");
    expect(noBase.base).toBe("");
    expect(noBase.absent).toEqual({ base: true, theirs: true, mine: false });
    expect(noBase.mine).toEqual([{ kind: "ins", text: "my text" }]);
    expect(noBase.changed).toEqual({ theirs: false, mine: true });

    // An empty string is a value: it is not absent.
    expect(fieldDiff({ field: "content", base: "", theirs: "x", mine: "" }).absent.base).toBe(false);
  });

  it("falls back to JSON for content that is not a string", () => {
    const d = fieldDiff({ field: "content", base: "text", theirs: { rich: true }, mine: "text" });
    expect(d.kind).toBe("json");
    expect(d.base).toBe('"text"');
  });
});

describe("conflictFields", () => {
  const fields = [{ field: "content" as const, base: "a", theirs: "b", mine: "c" }];

  it("keeps the API's fields when there are any", () => {
    expect(conflictFields({ reason: "stale_fields", fields, op: { content: "zzz" } })).toBe(fields);
  });

  it("for a deleted block with no fields, shows what this client tried to set against nothing", () => {
    const out = conflictFields({
      reason: "deleted",
      fields: [],
      op: { content: "my words", props: { checked: true }, position: undefined },
    });
    expect(out).toEqual([
      { field: "content", base: undefined, theirs: null, mine: "my words" },
      { field: "props", base: undefined, theirs: null, mine: { checked: true } },
    ]);
    expect(conflictFields({ reason: "deleted", fields: [] })).toEqual([]);
  });

  it("for a deleted block, prefers the block as this client saw it (what Keep mine re-creates)", () => {
    const out = conflictFields({
      reason: "deleted",
      fields: [],
      // A typing op carries a text_op, not the content: the block has the text.
      op: { position: { after: "x" } },
      block: { content: "all my text", type: "todo", props: { checked: false } },
    });
    expect(out).toEqual([
      { field: "content", base: undefined, theirs: null, mine: "all my text" },
      { field: "type", base: undefined, theirs: null, mine: "todo" },
      { field: "props", base: undefined, theirs: null, mine: { checked: false } },
    ]);
  });
});

describe("conflictSubject (MUT-10: the panel names its block)", () => {
  it("MUT-10: names the block by type, document number and first words, as the page shows it", () => {
    expect(
      conflictSubject({
        reason: "stale_fields",
        shown: { type: "todo", content: "Buy milk and eggs for the long weekend trip" },
        seen: { type: "heading", content: "something else" },
        number: 3,
      }),
    ).toBe("Todo block 3 “Buy milk and eggs for the…”");
    expect(conflictSubject({ reason: "stale_fields", shown: { type: "text", content: "  " } })).toBe(
      "Text block (empty)",
    );
    expect(
      conflictSubject({ reason: "stale_fields", shown: { type: "divider", content: "" }, number: 2 }),
    ).toBe("Divider block 2");
  });

  it("MUT-10: a block someone deleted is 'a deleted … block', by what the user last saw of it", () => {
    expect(
      conflictSubject({
        reason: "deleted",
        shown: null,
        seen: { type: "quote", content: "To be" },
        number: 4,
      }),
    ).toBe("a deleted Quote block “To be”");
    expect(conflictSubject({ reason: "deleted" })).toBe("a deleted block");
  });

  it("MUT-10: a long word is cut at whole code points, never in half a surrogate pair", () => {
    const snippet = textSnippet(`${"😀".repeat(39)}😀😀 tail`);
    expect(snippet).toBe(`${"😀".repeat(40)}…`);
    expect(LONE_SURROGATE.test(snippet)).toBe(false);
  });
});

describe("sameChange (MUT-10: identical concurrent changes)", () => {
  it("MUT-10: whole values compare by content, props by the keys the patch sets; moves never", () => {
    expect(sameChange({ field: "type", base: "text", theirs: "todo", mine: "todo" })).toBe(true);
    expect(sameChange({ field: "type", base: "text", theirs: "todo", mine: "quote" })).toBe(false);
    expect(sameChange({ field: "content", base: "a", theirs: "ab", mine: "ab" })).toBe(true);
    expect(
      sameChange({
        field: "props",
        base: {},
        theirs: { a: 1, b: [1, { c: 2 }] },
        mine: { b: [1, { c: 2 }] },
      }),
    ).toBe(true);
    expect(sameChange({ field: "props", base: { x: 1 }, theirs: { a: 1 }, mine: { x: null } })).toBe(true);
    expect(sameChange({ field: "props", base: { x: 1 }, theirs: { x: 1 }, mine: { x: null } })).toBe(false);
    expect(sameChange({ field: "parent_id", base: "p", theirs: null, mine: null })).toBe(true);
    expect(sameChange({ field: "parent_id", base: null, theirs: "q", mine: "p" })).toBe(false);
    expect(sameChange({ field: "position", base: "m", theirs: "n", mine: { after: "x" } })).toBe(false);
  });
});
