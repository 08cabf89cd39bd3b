/**
 * Eight hues dark enough for white initials (contrast ≥ 4.5:1, WCAG AA; checked in
 * avatar.test.ts) and distinct from each other.
 */
export const PRESENCE_COLORS = [
  "#b42318", // red
  "#b54708", // orange
  "#027a48", // green
  "#0e7090", // teal
  "#175cd3", // blue
  "#5925dc", // violet
  "#c11574", // pink
  "#854a0e", // brown
] as const;

/** FNV-1a over the UTF-16 code units: a stable colour per user on every client. */
export function colorFor(userId: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < userId.length; i++) {
    hash ^= userId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return PRESENCE_COLORS[hash % PRESENCE_COLORS.length] ?? PRESENCE_COLORS[0];
}

/** "Ada Lovelace" → "AL", "ada" → "A", "" → "?" (code points, so emoji and accents survive). */
export function initialsOf(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  const first = words[0];
  if (!first) return "?";
  const last = words.length > 1 ? words[words.length - 1] : undefined;
  const letter = (word: string) => Array.from(word)[0] ?? "";
  return (letter(first) + (last ? letter(last) : "")).toLocaleUpperCase();
}
