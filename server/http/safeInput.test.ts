import { describe, expect, it } from "vitest";
import { MAX_JSON_DEPTH, nestsDeeperThan, queryObject } from "./safeInput";

const nested = (n: number) => `${"[".repeat(n)}${"]".repeat(n)}`;

describe("safeInput", () => {
  it("API-3: nesting is measured outside strings, up to the limit inclusive", () => {
    expect(nestsDeeperThan(nested(MAX_JSON_DEPTH))).toBe(false);
    expect(nestsDeeperThan(nested(MAX_JSON_DEPTH + 1))).toBe(true);
    expect(nestsDeeperThan(`{"a":${nested(2)},"b":{"c":[]}}`, 3)).toBe(false);
    expect(nestsDeeperThan(`{"a":{"b":{"c":{}}}}`, 3)).toBe(true);
    // Brackets inside strings, escaped quotes included, do not count.
    expect(nestsDeeperThan(`{"s":"${"[".repeat(500)}","t":"\\"[[[[\\""}`, 2)).toBe(false);
    expect(nestsDeeperThan(`["\\\\",[[]]]`, 2)).toBe(true);
  });

  it("API-3: query parameters land on an object without a prototype, repeated ones as arrays", () => {
    const q = queryObject("?__proto__=x&constructor=y&limit=1&limit=2&e=%F0%9F%8E%89");
    expect(Object.getPrototypeOf(q)).toBeNull();
    expect(Object.getOwnPropertyDescriptor(q, "__proto__")?.value).toEqual(["x"]);
    expect(q.constructor).toEqual(["y"]);
    expect(q.limit).toEqual(["1", "2"]);
    expect(q.e).toEqual(["🎉"]);
    expect(Object.keys(queryObject(""))).toEqual([]);
  });
});
