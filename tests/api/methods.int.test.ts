import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_RATE_LIMITS } from "../../server/env";
import { startTestApi, type TestApi, type TestUser } from "../support/apiHarness";

/** Limits out of the way: every method of every path is asked once. */
const UNLIMITED = JSON.stringify(
  Object.fromEntries(Object.keys(DEFAULT_RATE_LIMITS).map((id) => [id, { points: 1_000_000, duration: 1 }])),
);
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;

let api: TestApi;
let owner: TestUser;
let doc: { paths: Record<string, Record<string, unknown>> };
beforeAll(async () => {
  api = await startTestApi({ RATE_LIMITS: UNLIMITED });
  owner = await api.user("Owner");
  doc = await (await api.anonymous("/api/v1/openapi.json")).json();
});
afterAll(async () => api?.stop());

/** The documented methods of a path item, upper case. */
const documented = (item: Record<string, unknown>) =>
  METHODS.filter((m) => item[m.toLowerCase()] !== undefined) as string[];

const allowOf = (res: Response) =>
  (res.headers.get("allow") ?? "")
    .split(",")
    .map((m) => m.trim())
    .filter(Boolean);

describe("API-3: a known path with a method it does not answer is 405 with Allow", () => {
  it("API-3: every path of the OpenAPI document answers 405 problem+json with Allow to every other method", async () => {
    const canvasId = await api.canvas(owner, "Methods");
    let asked = 0;
    for (const [template, item] of Object.entries(doc.paths)) {
      const allowed = documented(item);
      // A real canvas (the owner's) and unknown ids alike: the answer depends on the route only.
      for (const fill of [canvasId, randomUUID()]) {
        const path = template.replace(/\{canvas_id\}/g, fill).replace(/\{[^}]+\}/g, () => randomUUID());
        for (const method of METHODS.filter((m) => !allowed.includes(m))) {
          const res = await owner.fetch(path, {
            method,
            ...(method === "GET" ? {} : { json: { title: "not applied" } }),
          });
          const where = `${method} ${template}`;
          expect(res.status, where).toBe(405);
          expect(res.headers.get("content-type"), where).toContain("application/problem+json");
          expect(await res.json(), where).toMatchObject({ status: 405, code: "method_not_allowed" });
          const allow = allowOf(res);
          expect(allow, where).toEqual(expect.arrayContaining(allowed));
          expect(allow, where).not.toContain(method);
          asked += 1;
        }
      }
    }
    expect(asked).toBeGreaterThan(50);
    // Nothing was applied: the canvas keeps its title, nothing else was created.
    const list = (await (await owner.fetch("/api/v1/canvas")).json()) as { canvases: { title: string }[] };
    expect(list.canvases.map((c) => c.title)).toEqual(["Methods"]);
  });

  it("API-3: a trailing slash is the same route; the document and the notification stream list their methods too", async () => {
    const res = await owner.fetch("/api/v1/canvas/", { method: "PUT", json: {} });
    expect(res.status).toBe(405);
    expect(allowOf(res).sort()).toEqual(["GET", "POST"]);
    for (const [path, allow] of [
      ["/api/v1/openapi.json", ["GET"]],
      ["/api/v1/notifications/stream", ["GET"]],
      ["/.well-known/jwks.json", ["GET", "HEAD"]],
    ] as const) {
      const answer = await owner.fetch(path, { method: "POST", json: {} });
      expect(answer.status, path).toBe(405);
      expect(allowOf(answer), path).toEqual(allow);
    }
  });

  it("API-3: an unknown path is still 404, whatever the method", async () => {
    for (const method of METHODS) {
      const res = await owner.fetch("/api/v1/no-such-route", { method });
      expect(res.status, method).toBe(404);
      expect(res.headers.get("allow"), method).toBeNull();
    }
  });
});
