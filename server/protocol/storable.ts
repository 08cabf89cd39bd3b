/**
 * SEC-6 / API-3: what the database can store, as one rule for every transport. JSON may carry a
 * NUL (`\u0000`) or an unpaired UTF-16 surrogate (`"\ud83d"`), and JavaScript strings hold them
 * happily, but PostgreSQL `text` and `jsonb` refuse both (22021 / 22P05 / 22P02): left to the
 * database they fail the whole statement — every op of a group — as a 500. The protocol's zod
 * schemas refuse them instead, so REST, `/trpc` and the socket answer alike: a per-op
 * `invalid_op` inside a mutate request, a 400 `invalid_input` anywhere else.
 */
import { z } from "zod";

/** Stored JSON values (block props, canvas settings) nest at most this many levels. */
export const MAX_VALUE_DEPTH = 32;
/** Stored JSON values are at most this many characters of JSON. */
export const MAX_VALUE_CHARS = 64 * 1024;
/** int4 columns (block versions): a larger number can never name a row. */
export const MAX_INT4 = 2 ** 31 - 1;

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export const UNSTORABLE_MESSAGE = "contains a NUL or an unpaired surrogate, which cannot be stored";

/** True when PostgreSQL text can hold `s`: no NUL, every surrogate paired. */
export function isStorableText(s: string): boolean {
  return !s.includes("\u0000") && !LONE_SURROGATE.test(s);
}

/**
 * Why a JSON value cannot be stored as jsonb, or null when it can: a string or key that is not
 * storable text, or nesting deeper than `maxDepth` (objects and arrays count a level each). The
 * walk stops at the first problem and never recurses deeper than `maxDepth + 1`, so a value
 * nested 100,000 levels costs no more than one nested just past the limit.
 */
export function jsonValueProblem(value: unknown, maxDepth: number = MAX_VALUE_DEPTH): string | null {
  const walk = (v: unknown, depth: number): string | null => {
    if (typeof v === "string") return isStorableText(v) ? null : `a string ${UNSTORABLE_MESSAGE}`;
    if (v === null || typeof v !== "object") return null;
    if (depth >= maxDepth) return `nests deeper than ${maxDepth} levels`;
    if (Array.isArray(v)) {
      for (const item of v) {
        const problem = walk(item, depth + 1);
        if (problem) return problem;
      }
      return null;
    }
    for (const [key, item] of Object.entries(v)) {
      if (!isStorableText(key)) return `a key ${UNSTORABLE_MESSAGE}`;
      const problem = walk(item, depth + 1);
      if (problem) return problem;
    }
    return null;
  };
  return walk(value, 0);
}

/** A string PostgreSQL text can hold (compose with `.max()` etc. before it). */
export const storableText = <T extends z.ZodType<string>>(schema: T) =>
  schema.refine(isStorableText, { message: UNSTORABLE_MESSAGE });

/**
 * A JSON object stored as jsonb (props, settings): storable strings and keys, at most
 * MAX_VALUE_DEPTH levels (the object itself is one), at most `maxChars` characters of JSON, and
 * top-level keys of at most `maxKeyChars`. The depth is checked first, so serialising for the
 * size check never recurses without bound.
 */
export const storableObject = ({
  maxChars = MAX_VALUE_CHARS,
  maxKeyChars,
}: {
  maxChars?: number;
  maxKeyChars?: number;
} = {}) =>
  z
    .record(maxKeyChars === undefined ? z.string() : z.string().max(maxKeyChars), z.unknown())
    .superRefine((value, ctx) => {
      const problem = jsonValueProblem(value);
      if (problem) return ctx.addIssue({ code: "custom", message: problem });
      if (JSON.stringify(value).length > maxChars)
        ctx.addIssue({ code: "custom", message: `is limited to ${maxChars} characters of JSON` });
    });
