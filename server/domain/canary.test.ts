import { createHash, randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { canaryBucket, inCanary } from "./canary";

describe("canary (OPS-4)", () => {
  it("OPS-4: the bucket is a stable hash of the canvas id", () => {
    const id = "7a1e3f0c-2b9d-4c8e-9f6a-0d5b4c3a2e1f";
    // The documented formula: a canvas must never flip modes between releases or processes.
    expect(canaryBucket(id)).toBe(canaryBucket(id.toUpperCase()));
    const expected = Number.parseInt(createHash("sha256").update(id).digest("hex").slice(0, 8), 16) % 100;
    expect(canaryBucket(id)).toBe(expected);
  });

  it("OPS-4: 0 % selects none, 100 % selects all, and 30 % selects about 30 % of canvases", () => {
    const ids = Array.from({ length: 2000 }, () => randomUUID());
    expect(ids.filter((id) => inCanary(id, 0))).toHaveLength(0);
    expect(ids.filter((id) => inCanary(id, 100))).toHaveLength(ids.length);
    const share = ids.filter((id) => inCanary(id, 30)).length / ids.length;
    expect(share).toBeGreaterThan(0.25);
    expect(share).toBeLessThan(0.35);
    // Monotone: a canvas in the 30 % canary stays in when the share grows.
    for (const id of ids) if (inCanary(id, 30)) expect(inCanary(id, 50)).toBe(true);
  });
});
