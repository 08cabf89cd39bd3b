import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_RATE_LIMITS } from "../../server/env";
import { startTestApi, type TestApi, type TestUser } from "../support/apiHarness";

type Problem = {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  errors?: { path: string; message: string; code?: string }[];
};

/** Asserts an RFC 9457 problem with `status` and `code`, and returns it. */
async function problem(res: Response, status: number, code?: string): Promise<Problem> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  const body = JSON.parse(text) as Problem;
  expect(body).toMatchObject({
    type: expect.stringMatching(/^https:\/\//),
    title: expect.any(String),
    status,
    detail: expect.any(String),
    code: code ?? expect.any(String),
  });
  return body;
}

/** A raw request (chunked, no content-length) that fetch cannot make. */
function rawPost(
  url: string,
  path: string,
  headers: Record<string, string>,
  chunks: Buffer[],
): Promise<{ status: number; type: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method: "POST", headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c) => {
        body += c;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, type: res.headers["content-type"], body }));
    });
    req.on("error", reject);
    (async () => {
      for (const chunk of chunks) {
        if (!req.write(chunk)) await new Promise((r) => req.once("drain", r));
      }
      req.end();
    })().catch(reject);
  });
}

async function canvasCount(api: TestApi, user: TestUser): Promise<number> {
  const rows = await api.app.deps.db.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM canvas WHERE owner_id = $1",
    [user.userId],
  );
  return rows[0]!.n;
}

describe("API-3: bad input gets a 4xx problem+json and changes nothing", () => {
  let api: TestApi;
  let owner: TestUser;
  let canvasId: string;

  beforeAll(async () => {
    // Generous limits: these tests are about input, not rate.
    api = await startTestApi({
      RATE_LIMITS: JSON.stringify(
        Object.fromEntries(Object.keys(DEFAULT_RATE_LIMITS).map((id) => [id, { points: 1000, duration: 1 }])),
      ),
    });
    owner = await api.user("owner");
    canvasId = await api.canvas(owner, "errors");
  });
  afterAll(() => api?.stop());

  it("API-3: a schema violation is 400 invalid_input naming the offending fields in `errors`", async () => {
    const before = await canvasCount(api, owner);
    const body = await problem(
      await owner.fetch("/api/v1/canvas", { method: "POST", json: { title: 123, settings: "x" } }),
      400,
      "invalid_input",
    );
    const paths = (body.errors ?? []).map((e) => e.path).sort();
    expect(paths).toEqual(["settings", "title"]);
    for (const e of body.errors!) expect(e.message.length).toBeGreaterThan(0);
    expect(await canvasCount(api, owner)).toBe(before);
  });

  it("API-3: unknown fields are refused on writes (strict bodies), with the field named", async () => {
    const before = await canvasCount(api, owner);
    const body = await problem(
      await owner.fetch("/api/v1/canvas", { method: "POST", json: { title: "ok", owner_id: owner.userId } }),
      400,
      "invalid_input",
    );
    expect(JSON.stringify(body.errors)).toContain("owner_id");
    expect(await canvasCount(api, owner)).toBe(before);
  });

  it("API-3: a malformed UUID is 400 with the parameter named, never a 404 or a 500", async () => {
    for (const bad of ["not-a-uuid", "123", "00000000-0000-0000-0000-00000000000g", "%27%3B--"]) {
      const body = await problem(await owner.fetch(`/api/v1/canvas/${bad}`), 400, "invalid_input");
      expect(body.errors?.map((e) => e.path)).toContain("canvas_id");
    }
    await problem(await owner.fetch(`/api/v1/canvas/${canvasId}/blocks/nope`), 400, "invalid_input");
  });

  it("API-3: wrong query types and out-of-range numbers are 400", async () => {
    for (const q of ["limit=abc", "limit=0", "limit=201", "limit=1e400", "limit=-1", "limit=1.5"]) {
      const body = await problem(await owner.fetch(`/api/v1/canvas/${canvasId}/blocks?${q}`), 400, undefined);
      expect(body.code, q).toMatch(/invalid/);
    }
  });

  it("API-3: query parameters named like Object.prototype members are plain parameters, never a 500", async () => {
    for (const q of [
      "__proto__=x",
      "constructor=x",
      "toString=1",
      "hasOwnProperty=1",
      "__proto__[a]=1&limit=2",
    ]) {
      const res = await owner.fetch(`/api/v1/canvas/${canvasId}/blocks?${q}`);
      expect(res.status, q).toBe(200);
      const who = await owner.fetch(`/api/v1/whoami?${q}`);
      expect(who.status, q).toBe(200);
    }
  });

  it("API-3: malformed JSON is 400 malformed_json", async () => {
    const before = await canvasCount(api, owner);
    for (const text of ["{", '{"title": "x",}', "nul", '{"title": "\\x"}', "\u0000"]) {
      await problem(
        await owner.fetch("/api/v1/canvas", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: text,
        }),
        400,
        "malformed_json",
      );
    }
    expect(await canvasCount(api, owner)).toBe(before);
  });

  it("API-3: JSON nested deeper than 100 levels is 400, not a stack overflow (brackets inside strings do not count)", async () => {
    const before = await canvasCount(api, owner);
    for (const n of [101, 5_000, 120_000]) {
      const body = `{"title":"x","settings":{"a":${"[".repeat(n)}${"]".repeat(n)}}}`;
      const res = await owner.fetch("/api/v1/canvas", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      const p = await problem(res, 400, "invalid_input");
      expect(p.detail).toMatch(/nest/);
    }
    // Within the body's limit, the schema judges: settings nest at most 32 levels (SEC-6, the
    // stored-value rule of server/protocol/storable.ts), and brackets inside a string do not count.
    const deepSettings = await owner.fetch("/api/v1/canvas", {
      method: "POST",
      json: { title: "x", settings: { a: JSON.parse(`${"[".repeat(90)}${"]".repeat(90)}`) } },
    });
    const refused = await problem(deepSettings, 400, "invalid_input");
    expect(refused.errors).toEqual([
      expect.objectContaining({ path: "settings", message: expect.stringMatching(/deeper than 32/) }),
    ]);
    const ok = await owner.fetch("/api/v1/canvas", {
      method: "POST",
      json: {
        title: "x",
        settings: { a: JSON.parse(`${"[".repeat(31)}${"]".repeat(31)}`), s: "[".repeat(5000) },
      },
    });
    expect(ok.status).toBe(201);
    expect(await canvasCount(api, owner)).toBe(before + 1);
  });

  it("API-3: a body that is not application/json is 415 unsupported_media_type", async () => {
    for (const type of [
      "text/plain",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
    ]) {
      await problem(
        await owner.fetch("/api/v1/canvas", {
          method: "POST",
          headers: { "content-type": type },
          body: "title=x",
        }),
        415,
        "unsupported_media_type",
      );
    }
    // No content type at all, with a body.
    const raw = await rawPost(api.url, "/api/v1/canvas", { authorization: `Bearer ${owner.token}` }, [
      Buffer.from('{"title":"x"}'),
    ]);
    expect(raw.status).toBe(415);
    expect(raw.type).toMatch(/^application\/problem\+json/);
  });

  it("API-3: bodies over 256 KiB are 413 payload_too_large, declared or streamed", async () => {
    const before = await canvasCount(api, owner);
    const big = { title: "x", settings: { blob: "y".repeat(256 * 1024) } };
    await problem(
      await owner.fetch("/api/v1/canvas", { method: "POST", json: big }),
      413,
      "payload_too_large",
    );
    // Chunked, without a content-length: counted while read.
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const raw = await rawPost(
      api.url,
      "/api/v1/canvas",
      {
        authorization: `Bearer ${owner.token}`,
        "content-type": "application/json",
        "transfer-encoding": "chunked",
      },
      [Buffer.from('{"title":"x","pad":"'), chunk, chunk, chunk, chunk, chunk, Buffer.from('"}')],
    );
    expect(raw.status).toBe(413);
    expect(raw.type).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(raw.body).code).toBe("payload_too_large");
    // Just under the limit is read (and then judged by the schema).
    const under = await owner.fetch("/api/v1/canvas", {
      method: "POST",
      json: { title: "x", settings: { blob: "y".repeat(200 * 1024) } },
    });
    expect(under.status).not.toBe(413);
    expect(under.status).toBeLessThan(500);
    if (under.status === 201) expect(await canvasCount(api, owner)).toBe(before + 1);
    else expect(await canvasCount(api, owner)).toBe(before);
  });

  it("API-3: an unknown route is 404 problem+json, inside and outside /api/v1", async () => {
    await problem(await owner.fetch("/api/v1/nope"), 404, "not_found");
    await problem(await owner.fetch("/api/v1/canvas/x/y/z/w"), 404, "not_found");
    await problem(await owner.fetch("/nope"), 404, "not_found");
    // A known path with another method is no unknown route: 405 with Allow (tests/api/methods.int.test.ts).
    const put = await owner.fetch("/api/v1/canvas", { method: "PUT", json: {} });
    expect(put.headers.get("allow")).toBe("GET, POST");
    await problem(put, 405, "method_not_allowed");
  });

  it("API-3: missing or bad tokens are 401 problem+json; a non-member's canvas is 404 problem+json", async () => {
    await problem(await api.anonymous("/api/v1/canvas"), 401, "unauthorized");
    await problem(
      await api.anonymous("/api/v1/canvas", { headers: { authorization: "Bearer not.a.jwt" } }),
      401,
      "unauthorized",
    );
    const stranger = await api.user("stranger");
    await problem(await stranger.fetch(`/api/v1/canvas/${canvasId}`), 404);
  });

  it("API-3: error answers of a limited route still carry the RateLimit-* headers", async () => {
    const res = await owner.fetch("/api/v1/canvas/not-a-uuid");
    await problem(res, 400, "invalid_input");
    expect(res.headers.get("ratelimit-limit")).toBe("1000");
    expect(res.headers.get("ratelimit-remaining")).toMatch(/^\d+$/);
  });
});
