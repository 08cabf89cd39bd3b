import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_RATE_LIMITS, type RateLimitId } from "../../server/env";
import { startTestApi, type TestApi } from "../support/apiHarness";

const RULE_IDS = Object.keys(DEFAULT_RATE_LIMITS) as RateLimitId[];

/** SPEC §5: the rule of each blueprint route; AUTH before sign-in; everything else DEFAULT. */
const SPEC_RULES: Record<string, RateLimitId> = {
  "post /api/v1/canvas/{canvas_id}/mutate": "H2",
  "post /api/v1/canvas/{canvas_id}/presence": "H3",
  "get /api/v1/canvas/{canvas_id}/snapshot": "H4",
  "post /api/v1/auth/refresh": "H5",
  "post /api/v1/canvas/{canvas_id}/leave": "H6",
  "get /api/v1/canvas/{canvas_id}": "A1",
  "get /api/v1/canvas/{canvas_id}/blocks": "A2",
  "get /api/v1/canvas/{canvas_id}/blocks/{block_id}": "A3",
  "get /api/v1/canvas": "A4",
  "post /api/v1/canvas": "A5",
  "patch /api/v1/canvas/{canvas_id}": "A6",
  "delete /api/v1/canvas/{canvas_id}": "A7",
  "get /api/v1/canvas/{canvas_id}/permissions": "A8",
  "post /api/v1/auth/register": "AUTH",
  "post /api/v1/auth/login": "AUTH",
  // UI-10: inviting by email is limited per user like AUTH (issue 9).
  "post /api/v1/canvas/{canvas_id}/members": "INVITE",
};

type Op = { method: string; path: string; rule: string };

async function apiOperations(api: TestApi): Promise<Op[]> {
  const doc = (await (await api.anonymous("/api/v1/openapi.json")).json()) as {
    paths: Record<string, Record<string, { "x-rate-limit"?: { rule: string } }>>;
  };
  const ops: Op[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    if (!path.startsWith("/api/")) continue;
    for (const [method, op] of Object.entries(item)) {
      if (["get", "post", "put", "patch", "delete"].includes(method)) {
        ops.push({ method, path, rule: op["x-rate-limit"]?.rule ?? "(none)" });
      }
    }
  }
  return ops;
}

function rateHeaders(res: Response) {
  return {
    limit: res.headers.get("ratelimit-limit"),
    remaining: res.headers.get("ratelimit-remaining"),
    reset: res.headers.get("ratelimit-reset"),
    retryAfter: res.headers.get("retry-after"),
  };
}

describe("API-2 rate limits", () => {
  describe("each route spends its own rule", () => {
    let api: TestApi;
    // A distinct limit per rule, so the RateLimit-Limit header names the rule a route spent.
    const points = Object.fromEntries(RULE_IDS.map((id, i) => [id, 1000 + i])) as Record<RateLimitId, number>;
    beforeAll(async () => {
      api = await startTestApi({
        RATE_LIMITS: JSON.stringify(
          Object.fromEntries(RULE_IDS.map((id) => [id, { points: points[id], duration: 60 }])),
        ),
      });
    });
    afterAll(() => api?.stop());

    it("API-2: every REST route carries RateLimit-* headers from its SPEC rule (RATE_LIMITS overrides honoured)", async () => {
      const user = await api.user();
      const ops = await apiOperations(api);
      expect(ops.length).toBeGreaterThan(1);
      for (const op of ops) {
        const key = `${op.method} ${op.path}`;
        const expected = SPEC_RULES[key] ?? "DEFAULT";
        expect(op.rule, `${key} documents its rule`).toBe(expected);
        // Unknown ids and an empty body: nothing can be written, but the limit is spent first.
        const path = op.path.replace(/\{[^}]+\}/g, () => randomUUID());
        const res = await user.fetch(path, {
          method: op.method.toUpperCase(),
          ...(["post", "put", "patch"].includes(op.method) ? { json: {} } : {}),
        });
        expect(res.status, key).toBeLessThan(500);
        const h = rateHeaders(res);
        expect(h.limit, `${key} RateLimit-Limit`).toBe(String(points[expected]));
        expect(Number(h.remaining), `${key} RateLimit-Remaining`).toBeLessThan(points[expected]);
        expect(Number(h.reset), `${key} RateLimit-Reset`).toBeGreaterThan(0);
        expect(Number(h.reset)).toBeLessThanOrEqual(60);
      }
    });

    it("API-2: the blueprint's limits apply by default", async () => {
      const plain = await startTestApi();
      try {
        const user = await plain.user();
        const res = await user.fetch("/api/v1/whoami");
        expect(res.status).toBe(200);
        expect(rateHeaders(res)).toMatchObject({ limit: "10", remaining: "9", reset: "1", retryAfter: null });
      } finally {
        await plain.stop();
      }
    });
  });

  describe("refusals", () => {
    let api: TestApi;
    beforeAll(async () => {
      api = await startTestApi({
        RATE_LIMITS: JSON.stringify({
          DEFAULT: { points: 3, duration: 60 },
          A5: { points: 1, duration: 10 },
        }),
      });
    });
    afterAll(() => api?.stop());

    it("API-2: past the limit a route answers 429 problem+json rate_limited with Retry-After and RateLimit-*", async () => {
      const user = await api.user();
      const remaining: string[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await user.fetch("/api/v1/whoami");
        expect(res.status).toBe(200);
        remaining.push(rateHeaders(res).remaining!);
      }
      expect(remaining).toEqual(["2", "1", "0"]);
      const res = await user.fetch("/api/v1/whoami");
      expect(res.status).toBe(429);
      expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
      const h = rateHeaders(res);
      expect(h.limit).toBe("3");
      expect(h.remaining).toBe("0");
      expect(Number(h.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(Number(h.retryAfter)).toBeLessThanOrEqual(60);
      expect(Number(h.reset)).toBeGreaterThanOrEqual(1);
      const body = await res.json();
      expect(body).toMatchObject({
        type: expect.any(String),
        title: "Too Many Requests",
        status: 429,
        detail: expect.any(String),
        code: "rate_limited",
        rule: "DEFAULT",
        retry_after_s: Number(h.retryAfter),
      });
    });

    it("API-2: budgets are per user when signed in and per IP before sign-in", async () => {
      const a = await api.user("a");
      const b = await api.user("b");
      for (let i = 0; i < 3; i++) expect((await a.fetch("/api/v1/whoami")).status).toBe(200);
      expect((await a.fetch("/api/v1/whoami")).status).toBe(429);
      // Another user on the same address has a budget of their own, and so has the address.
      expect((await b.fetch("/api/v1/whoami")).status).toBe(200);
      for (let i = 0; i < 3; i++) expect((await api.anonymous("/api/v1/whoami")).status).toBe(200);
      expect((await api.anonymous("/api/v1/whoami")).status).toBe(429);
      // The address spent, a signed-in user on it still passes.
      const c = await api.user("c");
      expect((await c.fetch("/api/v1/whoami")).status).toBe(200);
    });

    it("API-2: a refused request changes nothing (A5: 1 per 10 s)", async () => {
      const user = await api.user();
      const first = await user.fetch("/api/v1/canvas", { method: "POST", json: { title: "one" } });
      expect(first.status).toBe(201);
      expect(rateHeaders(first).limit).toBe("1");
      const second = await user.fetch("/api/v1/canvas", { method: "POST", json: { title: "two" } });
      expect(second.status).toBe(429);
      expect(Number(second.headers.get("retry-after"))).toBeLessThanOrEqual(10);
      expect((await second.json()).rule).toBe("A5");
      const rows = await api.app.deps.db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM canvas WHERE owner_id = $1",
        [user.userId],
      );
      expect(rows[0]!.n).toBe(1);
    });

    it("API-2: refusals are counted in potentia_rate_limited_total{route} by rule id, without user ids", async () => {
      const text = await (await api.anonymous("/metrics")).text();
      expect(text).toMatch(/^potentia_rate_limited_total\{route="DEFAULT"\} [1-9]\d*$/m);
      expect(text).toMatch(/^potentia_rate_limited_total\{route="A5"\} 1$/m);
      const lines = text.split("\n").filter((l) => l.startsWith("potentia_rate_limited_total"));
      expect(lines.every((l) => /\{route="[A-Z0-9]+"\}/.test(l))).toBe(true);
    });

    // After the metrics count above: this test's refusals are A5's too.
    it("API-2: an Idempotency-Key retry inside A5's window gets its stored 201, not 429; a new request still does", async () => {
      const user = await api.user();
      const key = randomUUID();
      const create = (title: string, headers: Record<string, string> = { "idempotency-key": key }) =>
        user.fetch("/api/v1/canvas", { method: "POST", json: { title }, headers });
      const first = await create("once");
      expect(first.status).toBe(201);
      const body = await first.json();
      // The retry (a lost answer, say) comes at once: answered from the stored result.
      for (let i = 0; i < 3; i++) {
        const retry = await create("once");
        expect(retry.status).toBe(201);
        expect(retry.headers.get("idempotent-replayed")).toBe("true");
        expect(await retry.json()).toEqual(body);
      }
      // The key names its first request: another body is refused, and spends no budget either.
      expect((await create("other")).status).toBe(422);
      // The budget is still spent by anything new: a request without the key, or with a new key.
      expect((await create("two", {})).status).toBe(429);
      const fresh = await create("three", { "idempotency-key": randomUUID() });
      expect(fresh.status).toBe(429);
      expect((await fresh.json()).rule).toBe("A5");
      const rows = await api.app.deps.db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM canvas WHERE owner_id = $1",
        [user.userId],
      );
      expect(rows[0]!.n).toBe(1);
    });
  });

  describe("shared across processes", () => {
    it("API-2: with Redis, two API processes on one REDIS_PREFIX share every budget", async (ctx) => {
      if (!process.env.REDIS_URL) {
        console.log(
          "API-2 shared limits: REDIS_URL is not set; the shared (Redis) limiter is tested when it is",
        );
        ctx.skip();
        return;
      }
      const env = {
        REDIS_PREFIX: `test:${randomUUID()}:`,
        RATE_LIMITS: JSON.stringify({ DEFAULT: { points: 4, duration: 60 } }),
      };
      const one = await startTestApi(env);
      const two = await startTestApi(env);
      try {
        expect(one.app.deps.limiter.kind).toBe("redis");
        // Per IP (anonymous): the same budget whichever process answers.
        const seen: number[] = [];
        for (const api of [one, two, one, two, one, two])
          seen.push((await api.anonymous("/api/v1/whoami")).status);
        expect(seen).toEqual([200, 200, 200, 200, 429, 429]);
        const last = await two.anonymous("/api/v1/whoami");
        expect(rateHeaders(last)).toMatchObject({ limit: "4", remaining: "0" });
        // A third process on another prefix keeps its own count.
        const other = await startTestApi({ ...env, REDIS_PREFIX: `test:${randomUUID()}:` });
        try {
          expect((await other.anonymous("/api/v1/whoami")).status).toBe(200);
        } finally {
          await other.stop();
        }
      } finally {
        await one.stop();
        await two.stop();
      }
    });
  });
});
