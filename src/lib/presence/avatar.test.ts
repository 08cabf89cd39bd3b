import { describe, expect, it } from "vitest";
import { colorFor, initialsOf, PRESENCE_COLORS } from "./avatar";

const ADA = { user_id: "00000000-0000-4000-8000-00000000000a", name: "Ada" };

describe("UI-2: helpers", () => {
  it("UI-2: colours are stable per user and every palette colour carries white text (WCAG AA 4.5:1)", () => {
    expect(colorFor(ADA.user_id)).toBe(colorFor(ADA.user_id));
    expect(PRESENCE_COLORS).toContain(colorFor(ADA.user_id));
    const used = new Set(Array.from({ length: 64 }, (_, i) => colorFor(`user-${i}`)));
    expect(used.size).toBeGreaterThanOrEqual(6);
    for (const color of PRESENCE_COLORS) expect(contrastWithWhite(color)).toBeGreaterThanOrEqual(4.5);
  });

  it("initials from the first and last word", () => {
    expect(initialsOf("Ada Lovelace")).toBe("AL");
    expect(initialsOf("  grace  brewster murray hopper ")).toBe("GH");
    expect(initialsOf("bo")).toBe("B");
    expect(initialsOf("")).toBe("?");
    expect(initialsOf("émile zola")).toBe("ÉZ");
  });
});

/** WCAG relative-luminance contrast of a #rrggbb colour against white. */
function contrastWithWhite(hex: string): number {
  const channel = (i: number) => {
    const c = Number.parseInt(hex.slice(1 + i * 2, 3 + i * 2), 16) / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const luminance = 0.2126 * channel(0) + 0.7152 * channel(1) + 0.0722 * channel(2);
  return 1.05 / (luminance + 0.05);
}
