import { describe, expect, it } from "vitest";
import { markdownShortcut } from "./shortcuts";

describe("markdownShortcut", () => {
  it("turns '# ' into a heading", () => {
    expect(markdownShortcut("#", "# ")).toEqual({ type: "heading", content: "" });
  });

  it("keeps the text after the trigger when it is typed in front of existing text", () => {
    expect(markdownShortcut("#Title", "# Title")).toEqual({ type: "heading", content: "Title" });
  });

  it("todo, quote and code", () => {
    expect(markdownShortcut("[]", "[] ")).toEqual({ type: "todo", content: "", props: { checked: false } });
    expect(markdownShortcut(">", "> ")).toEqual({ type: "quote", content: "" });
    expect(markdownShortcut("``", "```")).toEqual({ type: "code", content: "" });
  });

  it("'---' becomes a divider only as the whole text", () => {
    expect(markdownShortcut("--", "---")).toEqual({ type: "divider", content: "" });
    expect(markdownShortcut("-- x", "--- x")).toBeNull();
  });

  it("ignores pastes and text that merely contains a trigger later", () => {
    expect(markdownShortcut("", "# pasted heading")).toBeNull();
    expect(markdownShortcut("a #", "a # ")).toBeNull();
    expect(markdownShortcut("# x", "# xy")).toBeNull();
  });
});
