import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it, vi } from "vitest";
import { CanvasItem } from "./CanvasItem";
import type { CanvasSummary } from "./types";

// Only the rename form talks to the API; the row itself renders without it. (The unit project has
// no "@/" alias, so the module is supplied here rather than resolved.)
vi.mock("@/lib/api", () => ({ trpc: {} }));

const NOW = Date.parse("2026-11-26T12:00:00Z");

function canvas(role: CanvasSummary["role"]): CanvasSummary {
  return {
    canvas_id: "0b7f3c1e-2f4a-4c55-9d1e-3a2b1c0d9e8f",
    title: "Roadmap & plans",
    settings: {},
    owner_id: "5f0d2a1b-3c4d-4e5f-8a9b-0c1d2e3f4a5b",
    role,
    created_at: "2026-11-20T09:00:00Z",
    updated_at: "2026-11-26T11:00:00Z",
    last_change_at: "2026-11-26T11:55:00Z",
  };
}

const render = (role: CanvasSummary["role"]) =>
  renderToStaticMarkup(
    createElement(CanvasItem, { canvas: canvas(role), now: NOW, onShare() {}, onDelete() {} }),
  );

describe("CanvasItem", () => {
  it("links the title to the editor and shows the role and the last edit", () => {
    const html = render("writer");
    expect(html).toContain('href="/canvas/0b7f3c1e-2f4a-4c55-9d1e-3a2b1c0d9e8f"');
    expect(html).toContain(">Roadmap &amp; plans</a>");
    expect(html).toContain(">writer</span>");
    expect(html).toMatch(/Edited <time dateTime="2026-11-26T11:55:00Z"[^>]*>5 minutes ago<\/time>/);
  });

  it("gives the owner rename, share and delete, named for the canvas", () => {
    const html = render("owner");
    for (const verb of ["Rename", "Share", "Delete"]) {
      expect(html).toContain(`aria-label="${verb} Roadmap &amp; plans"`);
    }
  });

  it("shows writers and readers no owner-only buttons", () => {
    for (const role of ["writer", "reader"] as const) {
      expect(render(role)).not.toContain("<button");
    }
  });
});
