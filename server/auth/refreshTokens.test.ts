import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { generateRefreshToken, hashRefreshToken } from "./refreshTokens";

describe("refresh tokens", () => {
  it("AUTH-3: refresh tokens are opaque: 32 random bytes as base64url, never repeating", () => {
    const tokens = new Set(Array.from({ length: 1000 }, generateRefreshToken));
    expect(tokens.size).toBe(1000);
    for (const token of tokens) {
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(token, "base64url")).toHaveLength(32);
      expect(token.split(".")).toHaveLength(1); // not a JWT
    }
  });

  it("AUTH-3: only the SHA-256 of a token is stored", () => {
    const token = generateRefreshToken();
    const stored = hashRefreshToken(token);
    expect(stored).toBe(createHash("sha256").update(token).digest("hex"));
    expect(stored).toMatch(/^[0-9a-f]{64}$/);
    expect(stored).not.toContain(token);
    expect(hashRefreshToken(`${token}x`)).not.toBe(stored);
  });
});
