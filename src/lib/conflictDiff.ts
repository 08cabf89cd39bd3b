import { type ChangeObject, diffArrays, diffLines } from "diff";
import type { BlockJson } from "./syncTypes";

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

export interface FieldDiff {
  field: ConflictFieldName;
  /** A human name for the field ("Text", "Properties", …). */
  label: string;
  /** `text`: word diff of a string (inline parts); `json`: line diff of pretty-printed JSON (one part per line). */
  kind: "text" | "json";
  /** The base as displayed (empty when absent). */
  base: string;
  theirs: DiffPart[];
  mine: DiffPart[];
  /** null/undefined values (e.g. a block that no longer exists) are shown as "none", not as "". */
  absent: { base: boolean; theirs: boolean; mine: boolean };
  /** Whether that side differs from the base at all. */
  changed: { theirs: boolean; mine: boolean };
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

export function fieldDiff(f: ConflictFieldValues): FieldDiff {
  const absent = { base: isAbsent(f.base), theirs: isAbsent(f.theirs), mine: isAbsent(f.mine) };
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
  const type = BLOCK_TYPE_LABELS[b.type as BlockJson["type"]] ?? "Block";
  const kind = type === "Block" ? "block" : `${type} block`;
  const number = !deleted && conflict.number !== undefined ? ` ${conflict.number}` : "";
  const snippet = typeof b.content === "string" ? textSnippet(b.content) : "";
  const text = b.type === "divider" ? "" : snippet ? ` “${snippet}”` : " (empty)";
  return `${deleted ? "a deleted " : ""}${kind}${number}${text}`;
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
