/**
 * SEC-5 / SEC-6 / API-3 at the protocol edge, on every transport that reaches the mutation
 * service — REST (H2), `/trpc` (the web app) and the socket (`sync.mutate`): a bad op is a per-op
 * `failed: invalid_op` decided before any work, the valid ops of the same request apply, nothing
 * answers 500, and nothing of it is logged as an error.
 */
import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { DEFAULT_RATE_LIMITS } from "../../server/env";
import type { OpResult } from "../../server/protocol/ops";
import { startTestApi, type TestApi, type TestUser } from "../support/apiHarness";
import { TestWsClient } from "../support/wsClient";

let api: TestApi;
let owner: TestUser;
let canvasId: string;
const sockets: TestWsClient[] = [];

beforeAll(async () => {
  const loose = Object.fromEntries(
    Object.keys(DEFAULT_RATE_LIMITS).map((id) => [id, { points: 100_000, duration: 1 }]),
  );
  api = await startTestApi({
    RATE_LIMITS: JSON.stringify({ ...loose, RPC: { points: 100_000, duration: 60 } }),
  });
  owner = await api.user("owner");
  canvasId = await api.canvas(owner, "edge");
});
afterEach(() => vi.restoreAllMocks());
afterAll(async () => {
  for (const s of sockets) s.close();
  await api?.stop();
});

/** `[[[…1…]]]` nested `levels` deep, as JSON text (JSON.stringify itself overflows on deep values). */
const deepJson = (levels: number) => `${"[".repeat(levels)}1${"]".repeat(levels)}`;
const DEEP = "__deep__";

/** JSON text of `value`, with every string `"__deep__:<n>"` replaced by a value nested n levels. */
function toJson(value: unknown): string {
  return JSON.stringify(value).replace(/"__deep__:(\d+)"/g, (_, n: string) => deepJson(Number(n)));
}

interface Answer {
  status: number;
  results?: OpResult[];
  body: unknown;
}

type Transport = (ops: unknown[]) => Promise<Answer>;

const rest: Transport = async (ops) => {
  const res = await owner.fetch(`/api/v1/canvas/${canvasId}/mutate`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: toJson({ ops }),
  });
  const body = (await res.json()) as { results?: OpResult[] };
  return { status: res.status, results: body.results, body };
};

const trpc: Transport = async (ops) => {
  const res = await owner.fetch("/trpc/sync.mutate", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: toJson({ canvas_id: canvasId, ops }),
  });
  const body = (await res.json()) as { result?: { data?: { results?: OpResult[] } } };
  return { status: res.status, results: body.result?.data?.results, body };
};

async function openSocket(): Promise<TestWsClient> {
  const client = await TestWsClient.open(
    `${api.url.replace(/^http/, "ws")}/ws/canvas/${canvasId}?token=${owner.token}`,
  );
  sockets.push(client);
  return client;
}

const socket: Transport = async (ops) => {
  const client = await openSocket();
  const id = 1;
  client.send(`{"id":${id},"method":"mutation","params":{"path":"sync.mutate","input":${toJson({ ops })}}}`);
  await client.until(() => client.frames.some((f) => f.id === id));
  const frame = client.frames.find((f) => f.id === id)!;
  client.close();
  const data = frame.result?.data as { results?: OpResult[] } | undefined;
  const status = frame.error ? ((frame.error.data as { httpStatus?: number })?.httpStatus ?? 500) : 200;
  return { status, results: data?.results, body: frame };
};

const TRANSPORTS: [string, Transport][] = [
  ["REST", rest],
  ["/trpc", trpc],
  ["socket", socket],
];

/** A fresh block holding `content` (version 1). */
async function block(content = "hello"): Promise<string> {
  const blockId = randomUUID();
  const out = await api.app.deps.canvasSync.mutate({
    canvasId,
    userId: owner.userId,
    ops: [{ client_op_id: randomUUID(), action: "create", block_id: blockId, type: "text", content }],
  });
  expect(out.results[0]!.status).toBe("success");
  return blockId;
}

async function stored(blockId: string): Promise<{ content: string; props: unknown; version: number }> {
  const [row] = await api.app.deps.db.query<{ content: string; props: unknown; version: number }>(
    "SELECT content, props, version FROM blocks WHERE block_id = $1",
    [blockId],
  );
  return row!;
}

const update = (blockId: string, fields: Record<string, unknown>) => ({
  client_op_id: randomUUID(),
  action: "update",
  block_id: blockId,
  base_version: 1,
  ...fields,
});

function watchErrorLog() {
  return vi.spyOn(api.app.deps.log, "error");
}

describe.each(TRANSPORTS)("the protocol edge over %s", (_name, send) => {
  it("SEC-5: a text_op skip or delete past the base text fails invalid_op at once; the valid op of the request applies", async () => {
    const errors = watchErrorLog();
    const id = await block("hello");
    const answer = await send([
      update(id, { text_op: [1e8, "x"] }),
      update(id, { text_op: [9_999_999_999, "x"] }),
      update(id, { text_op: [{ d: 100_001 }] }),
      // Within the edge's bound, past this block's text: refused by the rebase, before any apply.
      update(id, { text_op: [6, "x"] }),
      update(id, { text_op: [2, { d: 4 }] }),
      update(id, { text_op: [5, "!"] }),
    ]);
    expect(answer.status, JSON.stringify(answer.body).slice(0, 300)).toBe(200);
    expect(answer.results!.map((r) => [r.status, r.error?.code ?? null])).toEqual([
      ["failed", "invalid_op"],
      ["failed", "invalid_op"],
      ["failed", "invalid_op"],
      ["failed", "invalid_op"],
      ["failed", "invalid_op"],
      ["success", null],
    ]);
    expect(answer.results![0]!.error!.message).toMatch(/text_op\.0: reaches past the end/);
    expect(answer.results![3]!.error!.message).toMatch(/does not fit the text/);
    expect(await stored(id)).toMatchObject({ content: "hello!", version: 2 });
    expect(errors).not.toHaveBeenCalled();
  });

  it("SEC-6: NUL, lone surrogates, an int4-overflowing base_version and deep props each fail invalid_op; the valid ops apply", async () => {
    const errors = watchErrorLog();
    const id = await block("hello");
    const created = randomUUID();
    const answer = await send([
      { client_op_id: randomUUID(), action: "create", block_id: created, type: "text", content: "new" },
      update(id, { content: "a\u0000b" }),
      update(id, { content: "a\ud83d" }),
      update(id, { props: { note: "\u0000" } }),
      update(id, { props: { "k\udc00": 1 } }),
      update(id, { text_op: [1, "\ud83d"] }),
      update(id, { text_op: [{ d: "h\u0000" }] }),
      update(id, { base_version: 2_147_483_648, content: "x" }),
      update(id, { props: { deep: `${DEEP}:40` } }),
      {
        client_op_id: randomUUID(),
        action: "create",
        block_id: randomUUID(),
        type: "text",
        content: "🎉\u0000",
      },
      update(id, { content: "🎉 fine", props: { ok: [1, { nested: "yes" }] } }),
    ]);
    expect(answer.status, JSON.stringify(answer.body).slice(0, 300)).toBe(200);
    const statuses = answer.results!.map((r) => r.status);
    expect(statuses).toEqual(["success", ...Array(9).fill("failed"), "success"]);
    for (const r of answer.results!.slice(1, 10)) expect(r.error?.code).toBe("invalid_op");
    expect(answer.results![1]!.error!.message).toMatch(/^content: .*NUL or an unpaired surrogate/);
    expect(answer.results![8]!.error!.message).toMatch(/^props: nests deeper than 32 levels/);
    expect(await stored(id)).toMatchObject({ content: "🎉 fine", version: 2 });
    expect(await stored(created)).toMatchObject({ content: "new", version: 1 });
    expect(errors).not.toHaveBeenCalled();
  });
});

describe("nesting past the body limit", () => {
  it("API-3: props nested 5,000 deep are refused as bad input on every transport, never a stack overflow", async () => {
    const errors = watchErrorLog();
    const id = await block("hello");
    const ops = [update(id, { props: { deep: `${DEEP}:5000` } }), update(id, { content: "changed" })];
    // REST and /trpc refuse the whole body (nesting past 100 levels: 400) …
    const viaRest = await rest(ops);
    expect(viaRest.status).toBe(400);
    expect(viaRest.body).toMatchObject({ code: "invalid_input", detail: /nest at most 100 levels/ });
    const viaTrpc = await trpc(ops);
    expect(viaTrpc.status).toBe(400);
    expect(viaTrpc.body).toMatchObject({
      error: {
        data: { code: "BAD_REQUEST", problem: { code: "invalid_input" } },
        message: /nest at most 100/,
      },
    });
    expect(await stored(id)).toMatchObject({ content: "hello", version: 1 });
    // … the socket judges each op (a 64 KiB message holds 5,000 levels): that op alone fails.
    const viaSocket = await socket(ops);
    expect(viaSocket.results!.map((r) => [r.status, r.error?.code ?? null])).toEqual([
      ["failed", "invalid_op"],
      ["success", null],
    ]);
    expect(errors).not.toHaveBeenCalled();
  });
});

describe("outside mutate", () => {
  it("SEC-6: a register name with a NUL or a lone surrogate is 400 invalid_input on REST and /trpc; no account is made", async () => {
    const errors = watchErrorLog();
    for (const name of ["x\u0000y", "x\ud83d"]) {
      const email = `${randomUUID()}@example.com`;
      const body = { email, password: "correct horse battery", name };
      const viaRest = await api.anonymous("/api/v1/auth/register", { method: "POST", json: body });
      expect(viaRest.status).toBe(400);
      expect(await viaRest.json()).toMatchObject({ code: "invalid_input", errors: [{ path: "name" }] });
      const viaTrpc = await api.anonymous("/trpc/auth.register", { method: "POST", json: body });
      expect(viaTrpc.status).toBe(400);
      expect(await viaTrpc.json()).toMatchObject({ error: { data: { code: "BAD_REQUEST" } } });
      const rows = await api.app.deps.db.query("SELECT 1 FROM users WHERE email = $1", [email]);
      expect(rows).toHaveLength(0);
    }
    expect(errors).not.toHaveBeenCalled();
  });

  it("SEC-6: a lastEventId past the safe integers is a bad request on the socket, not a 500", async () => {
    const errors = watchErrorLog();
    const client = await openSocket();
    client.send({
      id: 7,
      method: "subscription",
      params: { path: "sync.events", input: {}, lastEventId: "9".repeat(32) },
    });
    await client.until(() => client.frames.some((f) => f.id === 7));
    const frame = client.frames.find((f) => f.id === 7)!;
    expect(frame.error?.data).toMatchObject({ code: "BAD_REQUEST", httpStatus: 400 });
    // The socket stays usable, and a real position still resumes.
    client.send({
      id: 8,
      method: "subscription",
      params: { path: "sync.events", input: {}, lastEventId: "0" },
    });
    await client.until(() => client.frames.some((f) => f.id === 8 && f.result?.type === "started"));
    expect(errors).not.toHaveBeenCalled();
  });

  it("SEC-6: an unexpected failure answers 500 without the database's or the runtime's text, on every transport", async () => {
    const id = await block("hello");
    const leak = 'invalid byte sequence for encoding "UTF8": 0x00';
    vi.spyOn(api.app.deps.canvasSync, "mutate").mockRejectedValue(
      Object.assign(new Error(leak), { code: "22021" }),
    );
    const errors = watchErrorLog();
    const ops = [update(id, { content: "x" })];
    for (const [name, send] of TRANSPORTS) {
      const answer = await send(ops);
      expect(answer.status, name).toBe(500);
      expect(JSON.stringify(answer.body), name).not.toMatch(/UTF8|0x00|invalid byte/);
    }
    const viaTrpc = await trpc(ops);
    expect(viaTrpc.body).toMatchObject({ error: { message: "An unexpected error occurred." } });
    // The cause is logged, with its text, for whoever runs the server.
    const logged = errors.mock.calls.map(([fields]) => (fields as { err?: Error }).err?.message);
    expect(logged).toHaveLength(TRANSPORTS.length + 1);
    for (const message of logged) expect(message).toBe(leak);
  });
});
