import { type ChangeObject, diffArrays, diffLines } from "diff";
import type { BlockJson } from "./sync/types";

/**
 * Pure diff logic behind the conflict panel (UI-4): for each conflicting field, what the other
 * person (`theirs`) and this client (`mine`) changed relative to the common `base`.
 */

export type ConflictFieldName = "content" | "props" | "type" | "parent_id" | "position";

/** One conflicting field as the API reports it (server/protocol/ops.ts ConflictField). */
export interface ConflictFieldValues {
  field: ConflictFieldName;
  base: unknown;
  theirs: unknown;
  mine: unknown;
}

/** A run of text that is unchanged, inserted or deleted relative to the base. */
export interface DiffPart {
  kind: "same" | "ins" | "del";
  text: string;
}

interface FieldDiffBase {
  field: ConflictFieldName;
  /** A human name for the field ("Text", "Properties", …). */
  label: string;
  /** null/undefined values (e.g. a block that no longer exists) are shown as "none", not as "". */
  absent: { base: boolean; theirs: boolean; mine: boolean };
  /** Whether that side differs from the base at all. */
  changed: { theirs: boolean; mine: boolean };
}

/** Text: a word diff (inline parts); JSON (content that is not text): a line diff of pretty JSON. */
export interface TextFieldDiff extends FieldDiffBase {
  kind: "text" | "json";
  /** The base as displayed (empty when absent). */
  base: string;
  theirs: DiffPart[];
  mine: DiffPart[];
}

/**
 * Block type, properties, parent and position as a person reads them ("Quote", "Language:
 * TypeScript", a ticked box, "Text block 2 “Groceries”", "Moved"): one line per value, each side
 * marked against the base (a changed single value reads "Text → Quote").
 */
export interface ValueFieldDiff extends FieldDiffBase {
  kind: "value";
  base: ValueLine[];
  theirs: ValueLine[];
  mine: ValueLine[];
}

export type FieldDiff = TextFieldDiff | ValueFieldDiff;

/** A value as shown: words, or a todo's box (ticked or not) with its label. */
export interface Readable {
  text: string;
  checkbox?: boolean;
}

export interface ValueLine {
  kind: DiffPart["kind"];
  value: Readable;
}

/** What the panel knows of the page: a block's name by id, for `parent_id` ("Text block 2 “…”"). */
export interface DiffContext {
  blockName?(id: string): string | undefined;
}

export const FIELD_LABELS: Record<ConflictFieldName, string> = {
  content: "Text",
  props: "Properties",
  type: "Block type",
  parent_id: "Parent block",
  position: "Position",
};

/**
 * Beyond this many edits a token diff costs more than it tells: the side is shown as one
 * deletion of the base and one insertion of the new value.
 */
const MAX_EDIT_LENGTH = 1000;

const isAbsent = (v: unknown): v is null | undefined => v === null || v === undefined;

/**
 * Words, runs of whitespace and punctuation, each a whole number of grapheme clusters, so an
 * emoji with a skin tone or a ZWJ family is never cut in half by the highlight (jsdiff's own
 * word tokenizer splits those).
 */
const wordSegmenter =
  typeof Intl !== "undefined" && "Segmenter" in Intl
    ? new Intl.Segmenter(undefined, { granularity: "word" })
    : null;

export function textTokens(s: string): string[] {
  if (s === "") return [];
  if (wordSegmenter) return Array.from(wordSegmenter.segment(s), (x) => x.segment);
  // No Intl.Segmenter (very old engines): whole code points, never half a surrogate pair.
  return Array.from(s);
}

/** Merge adjacent parts of the same kind and drop empty ones. */
function normalise(parts: DiffPart[]): DiffPart[] {
  const out: DiffPart[] = [];
  for (const p of parts) {
    if (p.text === "") continue;
    const last = out[out.length - 1];
    if (last && last.kind === p.kind) last.text += p.text;
    else out.push({ ...p });
  }
  return out;
}

function fromChanges(changes: ChangeObject<string[]>[]): DiffPart[] {
  return normalise(
    changes.map((c) => ({ kind: c.added ? "ins" : c.removed ? "del" : "same", text: c.value.join("") })),
  );
}

/** Word diff of `next` against `base`: `same` + `del` parts spell `base`, `same` + `ins` spell `next`. */
export function diffText(base: string, next: string): DiffPart[] {
  if (base === next) return normalise([{ kind: "same", text: base }]);
  const changes = diffArrays(textTokens(base), textTokens(next), { maxEditLength: MAX_EDIT_LENGTH });
  if (!changes) {
    return normalise([
      { kind: "del", text: base },
      { kind: "ins", text: next },
    ]);
  }
  return fromChanges(changes);
}

/**
 * Line diff of two JSON renderings: one part per line, without its newline (the panel shows each
 * as a line of its own). `same` + `del` lines joined by "\n" spell `base`; `same` + `ins`, `next`.
 */
export function diffJsonLines(base: string, next: string): DiffPart[] {
  const lines = (kind: DiffPart["kind"], text: string): DiffPart[] =>
    text === "" ? [] : text.split("\n").map((line) => ({ kind, text: line }));
  if (base === next) return lines("same", base);
  // Both end with a newline so that the last line compares like every other line.
  const changes = diffLines(`${base}\n`, `${next}\n`, { maxEditLength: MAX_EDIT_LENGTH });
  if (!changes) return [...lines("del", base), ...lines("ins", next)];
  return changes.flatMap((c) =>
    lines(
      c.added ? "ins" : c.removed ? "del" : "same",
      c.value.endsWith("\n") ? c.value.slice(0, -1) : c.value,
    ),
  );
}

/** Stable, readable JSON: keys sorted so that key order alone never shows as a change. */
export function prettyJson(value: unknown): string {
  if (value === undefined) return "";
  return JSON.stringify(sortKeys(value), null, 2) ?? String(value);
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(obj)
        .sort()
        .map((k) => [k, sortKeys(obj[k])]),
    );
  }
  return value;
}

/** Content is text whenever every present side is a string; everything else is JSON. */
function isTextField(f: ConflictFieldValues): boolean {
  if (f.field !== "content") return false;
  return [f.base, f.theirs, f.mine].every((v) => isAbsent(v) || typeof v === "string");
}

export function fieldDiff(f: ConflictFieldValues, context: DiffContext = {}): FieldDiff {
  // A null parent is a place (the top level), not a missing value.
  const gone = f.field === "parent_id" ? (v: unknown) => v === undefined : isAbsent;
  const absent = { base: gone(f.base), theirs: gone(f.theirs), mine: gone(f.mine) };
  const readable = f.field === "content" ? null : valueReader(f, context);
  if (readable) {
    const base = readable(f.base, "base");
    const theirs = keyedDiff(base, readable(f.theirs, "theirs"));
    const mine = keyedDiff(base, readable(f.mine, "mine"));
    const differs = (lines: ValueLine[]) => lines.some((l) => l.kind !== "same");
    return {
      field: f.field,
      label: FIELD_LABELS[f.field],
      kind: "value",
      base: base.map(([, value]) => ({ kind: "same", value })),
      theirs,
      mine,
      absent,
      changed: {
        theirs: differs(theirs) || absent.theirs !== absent.base,
        mine: differs(mine) || absent.mine !== absent.base,
      },
    };
  }
  const kind = isTextField(f) ? "text" : "json";
  const render = kind === "text" ? (v: unknown) => (isAbsent(v) ? "" : (v as string)) : jsonOrEmpty;
  const base = render(f.base);
  const theirs = render(f.theirs);
  const mine = render(f.mine);
  const diff = kind === "text" ? diffText : diffJsonLines;
  return {
    field: f.field,
    label: FIELD_LABELS[f.field],
    kind,
    base,
    theirs: diff(base, theirs),
    mine: diff(base, mine),
    absent,
    changed: {
      theirs: theirs !== base || absent.theirs !== absent.base,
      mine: mine !== base || absent.mine !== absent.base,
    },
  };
}

/** A side's value as keyed lines (the key says which line of the base it is compared with). */
type Keyed = [key: string, value: Readable][];
type Side = "base" | "theirs" | "mine";

/**
 * How a non-text field reads, or null when its values are not what the API sends (then it is
 * shown as JSON). `props` of `mine` is a patch (null removes a key), shown applied to the base.
 */
function valueReader(
  f: ConflictFieldValues,
  context: DiffContext,
): ((v: unknown, side: Side) => Keyed) | null {
  const one = (text: string): Keyed => [["", { text }]];
  const none = (v: unknown) => isAbsent(v);
  switch (f.field) {
    case "type": {
      const known = (v: unknown) => none(v) || (typeof v === "string" && Object.hasOwn(BLOCK_TYPE_LABELS, v));
      if (![f.base, f.theirs, f.mine].every(known)) return null;
      return (v) => (none(v) ? [] : one(BLOCK_TYPE_LABELS[v as BlockJson["type"]]));
    }
    case "parent_id":
      if (![f.base, f.theirs, f.mine].every((v) => v === undefined || v === null || typeof v === "string")) {
        return null;
      }
      // null is a value here (top level); only a side the API left out is absent.
      return (v) =>
        v === undefined
          ? []
          : one(
              v === null
                ? "Top level"
                : (context.blockName?.(v as string) ?? "a block no longer on the page"),
            );
    case "position":
      // base and theirs are order keys, mine the neighbours it asked for: a person sees "moved".
      return (v, side) => {
        if (none(v)) return [];
        const moved = side === "mine" ? true : side === "theirs" && !sameJson(v, f.base);
        return one(side === "base" || !moved ? "Where it was" : "Moved");
      };
    case "props": {
      if (![f.base, f.theirs, f.mine].every((v) => none(v) || isPlainObject(v))) return null;
      const base = isPlainObject(f.base) ? f.base : {};
      return (v, side) => {
        if (none(v)) return [];
        const obj =
          side === "mine"
            ? applyPropsPatch(base, v as Record<string, unknown>)
            : (v as Record<string, unknown>);
        return Object.keys(obj)
          .sort()
          .map((key) => [key, propLine(key, obj[key])]);
      };
    }
    default:
      return null;
  }
}

/** A props patch applied as the server does: shallow merge, a null value removes its key. */
function applyPropsPatch(
  base: Record<string, unknown>,
  patch: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = v;
  }
  return out;
}

/** Property names as the editor shows them; others are made readable from their key. */
const PROP_LABELS: Record<string, string> = { checked: "Done", language: "Language", level: "Level" };

/** "heading_level" / "textColor" → "Heading level" / "Text color". */
export function propLabel(key: string): string {
  const known = PROP_LABELS[key];
  if (known) return known;
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/[_-]+/g, " ")
    .trim()
    .toLowerCase();
  return words ? words[0]!.toUpperCase() + words.slice(1) : key;
}

/** One property as a line: a todo's `checked` is a box, everything else "Label: value". */
export function propLine(key: string, value: unknown): Readable {
  const label = propLabel(key);
  if (key === "checked" && typeof value === "boolean") return { text: label, checkbox: value };
  return { text: `${label}: ${readableValue(value)}` };
}

function readableValue(value: unknown): string {
  if (value === null || value === undefined) return "none";
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (typeof value === "string") return value === "" ? "(empty)" : value;
  if (typeof value === "number") return String(value);
  return JSON.stringify(sortKeys(value));
}

const sameJson = (a: unknown, b: unknown) => prettyJson(a) === prettyJson(b);

/** `next` against `base`, line by key: kept lines are `same`, changed ones `del` + `ins`. */
function keyedDiff(base: Keyed, next: Keyed): ValueLine[] {
  const baseByKey = new Map(base);
  const nextByKey = new Map(next);
  const keys = [...new Set([...base.map(([k]) => k), ...next.map(([k]) => k)])].sort();
  const out: ValueLine[] = [];
  for (const key of keys) {
    const b = baseByKey.get(key);
    const n = nextByKey.get(key);
    if (b && n && b.text === n.text && b.checkbox === n.checkbox) {
      out.push({ kind: "same", value: n });
      continue;
    }
    if (b) out.push({ kind: "del", value: b });
    if (n) out.push({ kind: "ins", value: n });
  }
  return out;
}

function jsonOrEmpty(v: unknown): string {
  return isAbsent(v) ? "" : prettyJson(v);
}

const OP_FIELDS: ConflictFieldName[] = ["content", "type", "props", "parent_id", "position"];
/** What a re-created block keeps (docs/UI.md, resolveConflict "mine" for "deleted"). */
const BLOCK_FIELDS = ["content", "type", "props"] as const;

/**
 * The fields to show for a conflict. The API reports no fields when the block was deleted: then
 * "mine" is the block as this client saw it (what "Keep mine" re-creates), or failing that the
 * fields its op tried to set, against a block that is gone.
 */
export function conflictFields(conflict: {
  reason: "stale_fields" | "deleted";
  fields: ConflictFieldValues[];
  op?: Partial<Record<ConflictFieldName, unknown>>;
  block?: Partial<Record<(typeof BLOCK_FIELDS)[number], unknown>>;
}): ConflictFieldValues[] {
  if (conflict.fields.length > 0 || conflict.reason !== "deleted") return conflict.fields;
  const gone = (field: ConflictFieldName, mine: unknown): ConflictFieldValues => ({
    field,
    base: undefined,
    theirs: null,
    mine,
  });
  const { block, op } = conflict;
  if (block) return BLOCK_FIELDS.filter((f) => block[f] !== undefined).map((f) => gone(f, block[f]));
  if (op) return OP_FIELDS.filter((f) => op[f] !== undefined).map((f) => gone(f, op[f]));
  return [];
}

/** Block types as the editor names them ("Todo block 3", docs/UI.md); the editor uses these too. */
export const BLOCK_TYPE_LABELS: Record<BlockJson["type"], string> = {
  text: "Text",
  heading: "Heading",
  todo: "Todo",
  code: "Code",
  quote: "Quote",
  divider: "Divider",
};

const SNIPPET_WORDS = 6;
const SNIPPET_CHARS = 40;

/** The first words of a block's text, on one line, "…" when cut (never half a code point). */
export function textSnippet(content: string): string {
  const words = content.trim().split(/\s+/).filter(Boolean);
  let out = words.slice(0, SNIPPET_WORDS).join(" ");
  let cut = words.length > SNIPPET_WORDS;
  const chars = Array.from(out);
  if (chars.length > SNIPPET_CHARS) {
    out = chars.slice(0, SNIPPET_CHARS).join("").trimEnd();
    cut = true;
  }
  return cut ? `${out}…` : out;
}

/**
 * A block as a person finds it on the page: `Todo block 3 “Buy milk and eggs”` (its number when
 * given, its first words; `(empty)` for a block without text, nothing for a divider).
 */
export function blockName(b: { type?: unknown; content?: unknown }, number?: number): string {
  const type = BLOCK_TYPE_LABELS[b.type as BlockJson["type"]] ?? "Block";
  const kind = type === "Block" ? "block" : `${type} block`;
  const n = number !== undefined ? ` ${number}` : "";
  const snippet = typeof b.content === "string" ? textSnippet(b.content) : "";
  const text = b.type === "divider" ? "" : snippet ? ` “${snippet}”` : " (empty)";
  return `${kind}${n}${text}`;
}

/**
 * MUT-10 / UI-4: which block a conflict is about, as a person finds it on the page — its type,
 * its number in the document when it is still there, and the first words of its text:
 * `Todo block 3 “Buy milk and eggs”`, `a deleted Text block “Hello”`, or `a deleted block`.
 * `shown` is the block as the page shows it now, `seen` as the user last saw it.
 */
export function conflictSubject(conflict: {
  reason: "stale_fields" | "deleted";
  shown?: { type?: unknown; content?: unknown } | null;
  seen?: { type?: unknown; content?: unknown } | null;
  /** 1-based document position, when the block is still in the document. */
  number?: number;
}): string {
  const b = (conflict.reason === "deleted" ? conflict.seen : (conflict.shown ?? conflict.seen)) ?? null;
  const deleted = conflict.reason === "deleted";
  if (!b) return deleted ? "a deleted block" : "a block";
  const name = blockName(b, deleted ? undefined : conflict.number);
  return `${deleted ? "a deleted " : ""}${name}`;
}

/**
 * MUT-10: the other person made the very change this update made (`theirs` already is what
 * `mine` sets): nothing to decide. Props are a patch (null removes a key), the other fields whole
 * values; a move (`mine` names neighbours, `theirs` is a key) never counts as the same. For
 * updates only: a delete's `mine` is null in every field.
 */
export function sameChange(f: ConflictFieldValues): boolean {
  if (f.field === "position" || f.mine === undefined) return false;
  if (f.field === "props") {
    if (!isPlainObject(f.mine)) return prettyJson(f.mine) === prettyJson(f.theirs);
    const theirs = isPlainObject(f.theirs) ? f.theirs : {};
    return Object.entries(f.mine).every(([k, v]) => prettyJson(v ?? null) === prettyJson(theirs[k] ?? null));
  }
  return prettyJson(f.mine) === prettyJson(f.theirs);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}
