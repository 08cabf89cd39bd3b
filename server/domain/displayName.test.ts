import { describe, expect, it } from "vitest";
import { cleanDisplayName } from "./displayName";

describe("display names (issue 9)", () => {
  it("API-3: bidi embeddings, overrides, isolates and marks are stripped", () => {
    // "Ann" written as RLO + "nnA": shows as "Ann" but is another string.
    expect(cleanDisplayName("\u202EnnA")).toBe("nnA");
    expect(cleanDisplayName("Eve\u2066 (admin)\u2069")).toBe("Eve (admin)");
    for (const c of [
      "\u202A",
      "\u202B",
      "\u202C",
      "\u202D",
      "\u2067",
      "\u2068",
      "\u200E",
      "\u200F",
      "\u061C",
    ]) {
      expect(cleanDisplayName(`A${c}B`)).toBe("AB");
    }
  });

  it("API-3: other invisible characters go too; whitespace collapses; NFC", () => {
    expect(cleanDisplayName("Bo\u200Bb\uFEFF\u2060\u00AD")).toBe("Bob");
    expect(cleanDisplayName("\u3164\u2800")).toBe("");
    expect(cleanDisplayName(" Ann\t\n\u00A0\u2028 Lee ")).toBe("Ann Lee");
    expect(cleanDisplayName("A\u0000B\u007F")).toBe("AB");
    expect(cleanDisplayName("Jose\u0301")).toBe("José");
  });

  it("API-3: scripts and emoji that need joiners keep them", () => {
    expect(cleanDisplayName("می\u200Cخواهم")).toBe("می\u200Cخواهم");
    expect(cleanDisplayName("👩\u200D💻 Dana")).toBe("👩\u200D💻 Dana");
    const england = "\u{1F3F4}\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F}";
    expect(cleanDisplayName(england)).toBe(england);
    expect(cleanDisplayName("Ana María 李")).toBe("Ana María 李");
  });
});
