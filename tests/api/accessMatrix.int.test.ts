/**
 * API-1: the access matrix. Walks EVERY canvas route of the served OpenAPI document (every path
 * with `{canvas_id}`) as owner, writer, reader, stranger and anonymous, each against a fresh canvas,
 * and checks the status each role must get. The table below is the contract: a canvas route in
 * the document that the table does not list fails the run, so a new route cannot ship without its
 * row here.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_RATE_LIMITS } from "../../server/env";
import { startTestApi, type TestApi, type TestUser } from "../support/apiHarness";

/** Limits out of the way: the matrix is about access, not API-2. */
const UNLIMITED = JSON.stringify(
  Object.fromEntries(Object.keys(DEFAULT_RATE_LIMITS).map((id) => [id, { points: 1_000_000, duration: 1 }])),
);

type Method = "GET" | "POST" | "PATCH" | "DELETE";
type Member = "owner" | "writer" | "reader";

/** One fresh canvas per check: a write by one role never changes what the next role meets. */
interface Fixture {
  canvasId: string;
  users: Record<Member | "stranger", TestUser>;
  /** A writer that member routes act on (`{user_id}`). */
  target: TestUser;
  /** A registered non-member, for adding by email. */
  newcomer: TestUser;
  /** A live block (`{block_id}`). */
  blockId: string;
  /** A pending invitation (`{invitation_id}`, UI-10). */
  invitationId: string;
}

interface RouteRow {
  /** SPEC id, for the report. */
  id: string;
  method: Method;
  /** The OpenAPI path template, exactly as the document spells it. */
  path: string;
  query?: string;
  /** A minimal valid body for writes. */
  body?: (f: Fixture) => unknown;
  /** Statuses each member role may get (strangers: 404, anonymous: 401, always). */
  expect: Record<Member, number[]>;
}

const OK = [200];
const reads = { owner: OK, writer: OK, reader: OK };
const ownerOnly = (status: number) => ({ owner: [status], writer: [403], reader: [403] });

const MATRIX: RouteRow[] = [
  { id: "A1", method: "GET", path: "/api/v1/canvas/{canvas_id}", expect: reads },
  {
    id: "A6",
    method: "PATCH",
    path: "/api/v1/canvas/{canvas_id}",
    body: () => ({ title: "Renamed" }),
    expect: ownerOnly(200),
  },
  { id: "A7", method: "DELETE", path: "/api/v1/canvas/{canvas_id}", expect: ownerOnly(204) },
  { id: "A8", method: "GET", path: "/api/v1/canvas/{canvas_id}/permissions", expect: reads },
  { id: "members", method: "GET", path: "/api/v1/canvas/{canvas_id}/members", expect: reads },
  {
    id: "members",
    method: "POST",
    path: "/api/v1/canvas/{canvas_id}/members",
    body: (f) => ({ email: `${f.newcomer.userId}@example.test`, role: "reader" }),
    expect: ownerOnly(201),
  },
  {
    id: "members",
    method: "PATCH",
    path: "/api/v1/canvas/{canvas_id}/members/{user_id}",
    body: () => ({ role: "reader" }),
    expect: ownerOnly(200),
  },
  {
    id: "members",
    method: "DELETE",
    path: "/api/v1/canvas/{canvas_id}/members/{user_id}",
    expect: ownerOnly(204),
  },
  {
    id: "invitations",
    method: "PATCH",
    path: "/api/v1/canvas/{canvas_id}/invitations/{invitation_id}",
    body: () => ({ role: "writer" }),
    expect: ownerOnly(200),
  },
  {
    id: "invitations",
    method: "DELETE",
    path: "/api/v1/canvas/{canvas_id}/invitations/{invitation_id}",
    expect: ownerOnly(204),
  },
  { id: "audit", method: "GET", path: "/api/v1/canvas/{canvas_id}/audit", expect: ownerOnly(200) },
  {
    id: "H2",
    method: "POST",
    path: "/api/v1/canvas/{canvas_id}/mutate",
    body: () => ({
      ops: [
        { client_op_id: randomUUID(), action: "create", block_id: randomUUID(), type: "text", content: "x" },
      ],
    }),
    expect: { owner: OK, writer: OK, reader: [403] },
  },
  // H3: presence is not an edit; readers are seen by others too (RT-2 lets readers subscribe).
  {
    id: "H3",
    method: "POST",
    path: "/api/v1/canvas/{canvas_id}/presence",
    body: () => ({ cursor: { x: 1, y: 2 } }),
    expect: reads,
  },
  // RT-10: what polling clients read of presence.
  { id: "presence", method: "GET", path: "/api/v1/canvas/{canvas_id}/presence", expect: reads },
  { id: "H4", method: "GET", path: "/api/v1/canvas/{canvas_id}/snapshot", expect: reads },
  { id: "H6", method: "POST", path: "/api/v1/canvas/{canvas_id}/leave", body: () => ({}), expect: reads },
  { id: "A2", method: "GET", path: "/api/v1/canvas/{canvas_id}/blocks", query: "limit=10", expect: reads },
  { id: "A3", method: "GET", path: "/api/v1/canvas/{canvas_id}/blocks/{block_id}", expect: reads },
  // Search answers 503 while pgvector or the embedding worker is missing (DB-7); access comes first.
  {
    id: "search",
    method: "GET",
    path: "/api/v1/canvas/{canvas_id}/search",
    query: "q=hello",
    expect: { owner: [200, 503], writer: [200, 503], reader: [200, 503] },
  },
];

let api: TestApi;
let documented: Set<string>;
const key = (method: string, path: string) => `${method.toUpperCase()} ${path}`;

beforeAll(async () => {
  api = await startTestApi({ RATE_LIMITS: UNLIMITED });
  const res = await fetch(`${api.url}/api/v1/openapi.json`);
  const doc = (await res.json()) as { paths: Record<string, Record<string, unknown>> };
  documented = new Set(
    Object.entries(doc.paths)
      .filter(([path]) => path.includes("{canvas_id}"))
      .flatMap(([path, ops]) =>
        Object.keys(ops)
          .filter((m) => ["get", "post", "put", "patch", "delete"].includes(m))
          .map((m) => key(m, path)),
      ),
  );
});
afterAll(async () => api?.stop());

async function fixture(): Promise<Fixture> {
  const owner = await api.user("Owner");
  const [writer, reader, stranger, target, newcomer] = await Promise.all([
    api.user("Writer"),
    api.user("Reader"),
    api.user("Stranger"),
    api.user("Target"),
    api.user("Newcomer"),
  ]);
  const canvasId = await api.canvas(owner);
  await api.member(canvasId, writer, "writer");
  await api.member(canvasId, reader, "reader");
  await api.member(canvasId, target, "writer");
  const blockId = randomUUID();
  const { results } = await api.app.deps.canvasSync.mutate({
    canvasId,
    userId: owner.userId,
    ops: [
      { client_op_id: randomUUID(), action: "create", block_id: blockId, type: "text", content: "hello" },
    ],
  });
  expect(results[0]?.status).toBe("success");
  const [invitation] = await api.app.deps.db.query<{ invitation_id: string }>(
    `INSERT INTO canvas_invitations (canvas_id, email, role) VALUES ($1, $2, 'reader') RETURNING invitation_id`,
    [canvasId, `invited-${randomUUID()}@example.test`],
  );
  const invitationId = invitation!.invitation_id;
  return { canvasId, users: { owner, writer, reader, stranger }, target, newcomer, blockId, invitationId };
}

function url(row: RouteRow, f: Fixture, canvasId = f.canvasId): string {
  const path = row.path
    .replace("{canvas_id}", canvasId)
    .replace("{user_id}", f.target.userId)
    .replace("{block_id}", f.blockId)
    .replace("{invitation_id}", f.invitationId);
  if (/\{[a-z_]+\}/.test(path)) throw new Error(`the matrix does not know how to fill ${row.path}`);
  return row.query ? `${path}?${row.query}` : path;
}

function send(fetcher: TestUser["fetch"], row: RouteRow, f: Fixture, canvasId?: string) {
  return fetcher(url(row, f, canvasId), { method: row.method, json: row.body?.(f) });
}

/** Runs only for routes the document serves; says so when one is not there (yet). */
function served(row: RouteRow, skip: (note?: string) => void): void {
  if (!documented.has(key(row.method, row.path))) {
    const note = `${key(row.method, row.path)} (${row.id}) is not in the OpenAPI document yet`;
    console.warn(`API-1 matrix: skipping — ${note}`);
    skip(note);
  }
}

describe("API-1: access matrix over every canvas route", () => {
  it("API-1: every canvas route of the OpenAPI document has a row in the matrix", () => {
    const listed = new Set(MATRIX.map((r) => key(r.method, r.path)));
    expect([...documented].filter((k) => !listed.has(k))).toEqual([]);
    expect(documented.size).toBeGreaterThan(0);
  });

  for (const row of MATRIX) {
    const name = `${row.method} ${row.path} (${row.id})`;

    it(`API-1: ${name}: owner, writer, reader get their rights; a stranger 404`, async (ctx) => {
      served(row, ctx.skip);
      for (const role of ["owner", "writer", "reader"] as const) {
        const f = await fixture();
        const res = await send(f.users[role].fetch, row, f);
        const body = await res.text();
        expect(row.expect[role], `${role}: ${name} → ${res.status} ${body}`).toContain(res.status);
        if (res.status === 403) expect(JSON.parse(body)).toMatchObject({ code: "forbidden" });
      }
      const f = await fixture();
      const res = await send(f.users.stranger.fetch, row, f);
      expect(res.status, `stranger: ${name}`).toBe(404);
      expect(res.headers.get("content-type")).toContain("application/problem+json");
      const strangerBody = await res.json();
      expect(strangerBody).toMatchObject({ code: "canvas_not_found" });
      // Indistinguishable from a canvas that does not exist.
      const missing = await send(f.users.owner.fetch, row, f, randomUUID());
      expect(missing.status).toBe(404);
      expect(await missing.json()).toEqual(strangerBody);
      // The stranger changed nothing: the canvas and its members are as they were.
      expect((await f.users.owner.fetch(`/api/v1/canvas/${f.canvasId}/members`)).status).toBe(200);
    });

    it(`API-1: ${name}: anonymous 401; a malformed canvas id 400`, async (ctx) => {
      served(row, ctx.skip);
      const f = await fixture();
      const anon = await send(api.anonymous, row, f);
      expect(anon.status).toBe(401);
      expect(await anon.json()).toMatchObject({ code: "unauthorized" });
      const bad = await send(f.users.owner.fetch, row, f, "not-a-uuid");
      expect(bad.status).toBe(400);
      expect(await bad.json()).toMatchObject({ code: "invalid_input" });
    });
  }

  it("API-1: a removed member is a stranger on the next request", async () => {
    const f = await fixture();
    const res = await f.users.owner.fetch(`/api/v1/canvas/${f.canvasId}/members/${f.users.writer.userId}`, {
      method: "DELETE",
    });
    expect(res.status).toBe(204);
    for (const row of MATRIX.filter((r) => documented.has(key(r.method, r.path)))) {
      const r = await send(f.users.writer.fetch, row, f);
      expect(r.status, `${row.method} ${row.path}`).toBe(404);
    }
  });
});
