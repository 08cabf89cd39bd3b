import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it, vi } from "vitest";
import type { ConflictItem } from "../lib/sync";
import { ConflictPanel } from "./conflict";

// The unit project has no "@/" alias: hand the panel the real diff module by its relative path.
vi.mock("@/lib/conflictDiff", () => import("../lib/conflictDiff"));

const BLOCK = "8d2f4c1a-1b2c-4d3e-8f40-5a6b7c8d9e0f";

function item(partial: Partial<ConflictItem>): ConflictItem {
  return {
    id: "c1",
    blockId: BLOCK,
    reason: "stale_fields",
    fields: [],
    op: {
      client_op_id: "2c1d0e9f-8a7b-4c6d-9e5f-4a3b2c1d0e9f",
      action: "update",
      block_id: BLOCK,
      base_version: 1,
    },
    result: {
      client_op_id: null,
      block_id: BLOCK,
      status: "conflict",
      server_seq: null,
      version: 2,
      block: null,
    },
    ...partial,
  };
}

const render = (conflict: ConflictItem, busy = false) =>
  renderToStaticMarkup(
    createElement(ConflictPanel, { conflict, onAcceptTheirs() {}, onKeepMine() {}, busy }),
  );

/** Text of the html with tags removed (and entities for quotes decoded), for reading order checks. */
const text = (html: string) => html.replace(/<[^>]+>/g, "").replace(/&quot;/g, '"');

describe("ConflictPanel", () => {
  it("is a dialog named Conflict by its heading, with both choices as buttons", () => {
    const html = render(
      item({ fields: [{ field: "type", base: "text", theirs: "quote", mine: "heading" }] }),
    );
    const labelledBy = html.match(/role="dialog"[^>]*aria-labelledby="([^"]+)"/)?.[1];
    expect(labelledBy).toBeTruthy();
    expect(html).toMatch(new RegExp(`<h2 id="${labelledBy}"[^>]*>Conflict</h2>`));
    expect(html).toContain("Someone changed this block while you were editing it.");
    expect(html).toMatch(/<button[^>]*>Accept theirs<\/button>/);
    expect(html).toMatch(/<button[^>]*>Keep mine<\/button>/);
    expect(html).not.toMatch(/<button[^>]*disabled/);
  });

  it("shows one section per field with base, theirs and mine, text diffs as <ins>/<del>", () => {
    const html = render(
      item({
        fields: [
          { field: "content", base: "Hello world", theirs: "Hello brave world", mine: "Goodbye world" },
          { field: "props", base: { checked: false }, theirs: { checked: true }, mine: { checked: false } },
        ],
      }),
    );
    expect(html.match(/<section/g)).toHaveLength(2);
    const [content, props] = html.split("<section").slice(1) as [string, string];
    expect(text(content)).toMatch(/Text.*base.*Hello world.*theirs.*mine/);
    expect(content).toContain(">brave </ins>");
    expect(content).toContain(">Hello</del>");
    expect(content).toContain(">Goodbye</ins>");
    expect(text(props)).toContain("Properties");
    // The todo's box as a box: unticked before, ticked by them; no JSON anywhere.
    const theirsColumn = props.split(">theirs<")[1]?.split(">mine<")[0] ?? "";
    expect(theirsColumn).toMatch(
      /<del[^>]*><label[^>]*><input type="checkbox" disabled=""[^>]*\/> Done<\/label><\/del>/,
    );
    expect(theirsColumn).toMatch(
      /<ins[^>]*><label[^>]*><input type="checkbox"[^>]*checked=""[^>]*\/> Done<\/label><\/ins>/,
    );
    expect(text(theirsColumn)).toContain("Done → added:  Done");
    expect(props).not.toContain("&quot;");
    // Mine did not change the props: no marks in its column, and it says so.
    const mineColumn = props.split(">mine<")[1] ?? "";
    expect(mineColumn).not.toMatch(/<(ins|del)/);
    expect(mineColumn).toContain("unchanged");
  });

  it("MUT-10: shows a type, a parent and a move as a person reads them (Text → Quote), never as JSON", () => {
    const PARENT = "3f1c2a9e-0000-4000-8000-000000000001";
    const html = renderToStaticMarkup(
      createElement(ConflictPanel, {
        conflict: item({
          fields: [
            { field: "type", base: "text", theirs: "quote", mine: "heading" },
            { field: "parent_id", base: null, theirs: PARENT, mine: null },
            { field: "position", base: "m", theirs: "t", mine: { after: PARENT } },
          ],
        }),
        onAcceptTheirs() {},
        onKeepMine() {},
        blockName: (id) => (id === PARENT ? "Text block 1 “Groceries”" : undefined),
      }),
    );
    const [type, parent, position] = html
      .split("<section")
      .slice(1)
      .map((x) => text(`<${x}`)) as [string, string, string];
    expect(type).toMatch(
      /^Block type.*base.*Text.*theirs.*removed: Text → added: Quote.*mine.*removed: Text → added: Heading/,
    );
    expect(parent).toMatch(
      /^Parent block.*base.*Top level.*theirs.*Top level → added: Text block 1 “Groceries”.*mine.*Top level.*unchanged/,
    );
    expect(position).toMatch(/^Position.*base.*Where it was.*theirs.*added: Moved.*mine.*added: Moved/);
    expect(html).not.toMatch(/&quot;|3f1c2a9e/);
  });

  it("explains a deletion and shows what Keep mine would bring back", () => {
    const html = render(
      item({
        reason: "deleted",
        block: {
          block_id: BLOCK,
          canvas_id: "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
          parent_id: null,
          type: "todo",
          content: "Buy milk 🥛",
          props: { checked: false },
          y_order: "m",
          version: 3,
          created_at: "2026-11-26T10:00:00Z",
          created_by: null,
          updated_at: "2026-11-26T10:00:00Z",
          updated_by: null,
        },
      }),
    );
    expect(html).toContain("Someone deleted this block while you were editing it.");
    expect(html).toContain(">Buy milk 🥛</ins>");
    expect(text(html)).toContain("(deleted)");
  });

  it("MUT-10: says which block it is about (type, number, first words), part of the dialog's description", () => {
    const current = {
      block_id: BLOCK,
      canvas_id: "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
      parent_id: null,
      type: "todo" as const,
      content: "Water the plants on the balcony every morning",
      props: { checked: true },
      y_order: "m",
      version: 2,
      created_at: "2026-11-26T10:00:00Z",
      created_by: null,
      updated_at: "2026-11-26T10:00:00Z",
      updated_by: null,
    };
    const html = renderToStaticMarkup(
      createElement(ConflictPanel, {
        conflict: item({
          fields: [{ field: "type", base: "todo", theirs: "todo", mine: "heading" }],
          result: { ...item({}).result, block: current },
        }),
        onAcceptTheirs() {},
        onKeepMine() {},
        blockNumber: 2,
      }),
    );
    expect(text(html)).toContain("About Todo block 2 “Water the plants on the balcony…”");
    const describedBy = html.match(/role="dialog"[^>]*aria-describedby="([^"]+)"/)?.[1] ?? "";
    const subjectId = html.match(/<p id="([^"]+)"[^>]*>About /)?.[1];
    expect(subjectId).toBeTruthy();
    expect(describedBy.split(" ")).toContain(subjectId);
    // A block someone deleted has no number any more.
    expect(text(render(item({ reason: "deleted" })))).toContain("About a deleted block");
  });

  it("disables both choices while one is being applied", () => {
    const html = render(
      item({ fields: [{ field: "type", base: "text", theirs: "quote", mine: "code" }] }),
      true,
    );
    expect(html.match(/<button[^>]*disabled=""/g)).toHaveLength(2);
    expect(html).toContain('aria-busy="true"');
  });
});
