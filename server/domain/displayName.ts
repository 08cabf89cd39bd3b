/**
 * Display names as others see them (issue 9). A name is shown to every member of a canvas — in
 * presence, cursors, member lists — so it must not carry characters that rearrange or hide text:
 * bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069), directional marks,
 * other invisible format characters, control characters, and "blank letters" that render as
 * nothing. Such a name could make "Ann" look like "nnA", hide a suffix, or pass for someone
 * else's name. Zero-width (non-)joiners and emoji tag characters stay: scripts and emoji need
 * them. Runs of whitespace (any kind) become one space; the result is NFC and trimmed.
 */

// \p{Cc} controls, \p{Cf} format characters (bidi controls, marks, U+FEFF, U+2060…, soft hyphen),
// and letters that draw nothing: Hangul fillers, braille blank, Mongolian vowel separator.
const INVISIBLE = /[\p{Cc}\p{Cf}\u115F\u1160\u3164\uFFA0\u2800\u180E]/gu;
/** Kept from \p{Cf}: ZWNJ and ZWJ (Persian, Indic scripts, emoji sequences), emoji tag characters. */
const KEPT = /^(?:\u200C|\u200D|[\u{E0020}-\u{E007F}])$/u;

export function cleanDisplayName(name: string): string {
  return name
    .normalize("NFC")
    .replace(/[\s\u2028\u2029]+/gu, " ")
    .replace(INVISIBLE, (ch) => (KEPT.test(ch) ? ch : ""))
    .replace(/ {2,}/g, " ")
    .trim();
}
