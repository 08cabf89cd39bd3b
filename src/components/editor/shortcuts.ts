import type { BlockJson } from "@/lib/sync";

export interface ShortcutResult {
  type: BlockJson["type"];
  content: string;
  props?: Record<string, unknown>;
}

const TRIGGERS: { prefix: string; type: BlockJson["type"]; props?: Record<string, unknown> }[] = [
  { prefix: "# ", type: "heading" },
  { prefix: "[] ", type: "todo", props: { checked: false } },
  { prefix: "[ ] ", type: "todo", props: { checked: false } },
  { prefix: "> ", type: "quote" },
  { prefix: "```", type: "code" },
];

/**
 * Markdown shortcuts (docs/UI.md): typing `# `, `[] `, `> `, ```` ``` ```` or `---` at the start of
 * a text block turns it into another type. Only a single typed character completes a trigger, so
 * pasting or loading such text does not convert anything.
 */
export function markdownShortcut(before: string, after: string): ShortcutResult | null {
  if (after.length !== before.length + 1) return null;
  if (after === "---") return { type: "divider", content: "" };
  for (const t of TRIGGERS) {
    if (after.startsWith(t.prefix) && !before.startsWith(t.prefix)) {
      // The typed character must be one of the trigger's own, not text after an existing one.
      if (!typedWithin(before, after, t.prefix.length)) continue;
      return { type: t.type, content: after.slice(t.prefix.length), ...(t.props ? { props: t.props } : {}) };
    }
  }
  return null;
}

/** `after` is `before` with one character inserted somewhere in its first `limit` characters. */
function typedWithin(before: string, after: string, limit: number): boolean {
  for (let k = 0; k < limit; k++) {
    if (after.slice(0, k) + after.slice(k + 1) === before) return true;
  }
  return false;
}
