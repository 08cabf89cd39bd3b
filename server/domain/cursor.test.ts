import { describe, expect, it } from "vitest";
import { decodeBlockCursor, encodeBlockCursor } from "./cursor";

describe("block cursors (A2)", () => {
  it("A2: a cursor round-trips the last y_order and is opaque base64url", () => {
    const c = encodeBlockCursor("0i0000");
    expect(c).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(c).not.toContain("0i0000");
    expect(decodeBlockCursor(c)).toEqual({ y: "0i0000" });
  });

  it("A2: garbage and tampered cursors decode to null", () => {
    const b64 = (s: string) => Buffer.from(s).toString("base64url");
    for (const bad of [
      "",
      "!!!",
      "not a cursor",
      b64("not json"),
      b64("[]"),
      b64("null"),
      b64('"0i"'),
      b64('{"y":1}'),
      b64('{"y":"ABC"}'),
      b64('{"y":"0i0000000000000"}'),
      b64('{"y":"0i","x":1}'),
      b64("{}"),
      "a".repeat(500),
    ]) {
      expect(decodeBlockCursor(bad), bad).toBeNull();
    }
  });
});
