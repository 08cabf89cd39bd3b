import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi } from "../../tests/support/apiHarness";
import { vectorAvailable } from "../db/vector";

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi({ RATE_LIMITS: JSON.stringify({ DEFAULT: { points: 10_000, duration: 1 } }) });
});
afterAll(async () => api?.stop());

// biome-ignore lint/suspicious/noExplicitAny: response JSON is inspected loosely in tests
type Json = Record<string, any>;

describe("search (DB-7)", () => {
  it("DB-7: search answers 503 — vector_unavailable without pgvector, search_unavailable until the embedding worker exists", async () => {
    const owner = await api.user();
    const canvas = await api.canvas(owner);
    const res = await owner.fetch(
      `/api/v1/canvas/${canvas}/search?q=${encodeURIComponent("meeting notes")}&k=5`,
    );
    expect(res.status).toBe(503);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
    const body = (await res.json()) as Json;
    const hasVector = await vectorAvailable(api.app.deps.db);
    expect(body.code).toBe(hasVector ? "search_unavailable" : "vector_unavailable");
    expect(body.detail).toMatch(hasVector ? /embedding worker/ : /pgvector/);
  });

  it("API-3: q (1..500 chars) and k (1..50) are validated first: 400", async () => {
    const owner = await api.user();
    const canvas = await api.canvas(owner);
    for (const q of [
      "",
      "?q=",
      "?q=%20%20",
      `?q=${"a".repeat(501)}`,
      "?q=x&k=0",
      "?q=x&k=51",
      "?q=x&k=abc",
    ]) {
      const res = await owner.fetch(`/api/v1/canvas/${canvas}/search${q}`);
      expect(res.status, q).toBe(400);
      expect(res.headers.get("content-type")).toContain("application/problem+json");
    }
  });

  it("API-1: search is 404 for a non-member", async () => {
    const owner = await api.user();
    const stranger = await api.user();
    const canvas = await api.canvas(owner);
    const res = await stranger.fetch(`/api/v1/canvas/${canvas}/search?q=x`);
    expect(res.status).toBe(404);
  });
});
