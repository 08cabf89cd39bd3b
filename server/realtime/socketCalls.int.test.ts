import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi, type TestUser } from "../../tests/support/apiHarness";
import { TestWsClient } from "../../tests/support/wsClient";
import type { Database } from "../db/sql";

/**
 * RT-2 / API-3: the socket's sync.mutate, sync.presence and sync.leave are the procedures of H2,
 * H3 and H6: the same failure gets the same error on the socket, on `/trpc` and (as problem+json)
 * on REST — including the database being down.
 */
let api: TestApi;
let wsBase: string;
const open: TestWsClient[] = [];

beforeAll(async () => {
  api = await startTestApi({ RATE_LIMITS: JSON.stringify({ RPC: { points: 3, duration: 60 } }) });
  wsBase = api.url.replace(/^http/, "ws");
});
afterAll(async () => {
  for (const c of open) c.close();
  await api?.stop();
});

type ErrorShape = {
  message: string;
  code: number;
  data: {
    code: string;
    httpStatus: number;
    path: string;
    problem: { code: string } & Record<string, unknown>;
  };
};

async function connect(user: TestUser, canvasId: string): Promise<TestWsClient> {
  const client = await TestWsClient.open(`${wsBase}/ws/canvas/${canvasId}?token=${user.token}`);
  open.push(client);
  return client;
}

/** One call on the socket; its answer frame. */
async function onSocket(client: TestWsClient, path: string, input: unknown) {
  const id = client.mutation(path, input);
  await client.until(() => client.frames.some((f) => f.id === id));
  return client.frames.find((f) => f.id === id) as { result?: { data: unknown }; error?: ErrorShape };
}

/** The same call over tRPC's HTTP transport (the web app's), with the canvas in the input. */
async function onTrpc(user: TestUser, path: string, input: Record<string, unknown>) {
  const res = await user.fetch(`/trpc/${path}`, { method: "POST", json: input });
  return {
    status: res.status,
    body: (await res.json()) as { result?: { data: unknown }; error?: ErrorShape },
  };
}

/** And over REST (problem+json). */
async function onRest(user: TestUser, route: string, json: unknown) {
  const res = await user.fetch(route, { method: "POST", json });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** The socket's error and /trpc's are one shape from one formatter; REST says the same in problem+json. */
function expectSameError(
  socket: ErrorShape | undefined,
  trpc: { status: number; body: { error?: ErrorShape } },
  rest: { status: number; body: Record<string, unknown> },
  expected: { code: string; status: number; problem: string },
) {
  expect(socket?.data.code).toBe(expected.code);
  expect(socket?.data.httpStatus).toBe(expected.status);
  expect(socket?.data.problem.code).toBe(expected.problem);
  expect(trpc.status).toBe(expected.status);
  expect(trpc.body.error).toEqual(socket);
  expect(rest.status).toBe(expected.status);
  expect(rest.body.code).toBe(expected.problem);
}

describe("one path for a socket call (RT-2)", () => {
  it("RT-2: invalid presence, a reader's mutate and a mutate over MUT-7's limit answer alike on the socket, /trpc and REST", async () => {
    const [owner, reader] = [await api.user("Owner"), await api.user("Reader")];
    const canvas = await api.canvas(owner);
    await api.member(canvas, reader, "reader");
    const r = await connect(reader, canvas);
    const bad = { cursor: { x: "1", y: 0 } };
    expectSameError(
      (await onSocket(r, "sync.presence", bad)).error,
      await onTrpc(reader, "sync.presence", { canvas_id: canvas, ...bad }),
      await onRest(reader, `/api/v1/canvas/${canvas}/presence`, bad),
      { code: "BAD_REQUEST", status: 400, problem: "invalid_input" },
    );
    const op = () => ({ client_op_id: randomUUID(), action: "create", block_id: randomUUID(), type: "text" });
    expectSameError(
      (await onSocket(r, "sync.mutate", { ops: [op()] })).error,
      await onTrpc(reader, "sync.mutate", { canvas_id: canvas, ops: [op()] }),
      await onRest(reader, `/api/v1/canvas/${canvas}/mutate`, { ops: [op()] }),
      { code: "FORBIDDEN", status: 403, problem: "forbidden" },
    );
    // RATE_LIMITS.RPC is 3 per minute here: spend it, then every transport says rate_limited.
    const o = await connect(owner, canvas);
    for (let i = 0; i < 3; i++)
      expect((await onSocket(o, "sync.mutate", { ops: [op()] })).result).toBeDefined();
    const socket = (await onSocket(o, "sync.mutate", { ops: [op()] })).error;
    const trpc = await onTrpc(owner, "sync.mutate", { canvas_id: canvas, ops: [op()] });
    const rest = await onRest(owner, `/api/v1/canvas/${canvas}/mutate`, { ops: [op()] });
    expect(socket?.data.problem).toMatchObject({ code: "rate_limited", retry_after_s: expect.any(Number) });
    expect(trpc.body.error?.data.problem).toMatchObject({ code: "rate_limited" });
    expectSameError(
      socket,
      {
        ...trpc,
        body: {
          error: { ...trpc.body.error!, data: { ...trpc.body.error!.data, problem: socket!.data.problem } },
        },
      },
      rest,
      { code: "TOO_MANY_REQUESTS", status: 429, problem: "rate_limited" },
    );
    // The canvas is the socket's: an input naming one is refused, not obeyed.
    expect((await onSocket(o, "sync.leave", { canvas_id: randomUUID() })).error?.data.code).toBe(
      "BAD_REQUEST",
    );
  });

  it("RT-2: with the database unavailable (failure injection), every transport answers 503 unavailable, and recovers with it", async () => {
    const [owner] = [await api.user("Owner")];
    const canvas = await api.canvas(owner);
    const socket = await connect(owner, canvas);
    const db = api.app.deps.db as Database;
    const { query, transaction } = db;
    // Failure injection: the Database port fails as node-postgres does when the server is gone.
    const refused = () =>
      Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });
    db.query = () => Promise.reject(refused());
    db.transaction = () => Promise.reject(refused());
    try {
      const op = () => ({
        client_op_id: randomUUID(),
        action: "create",
        block_id: randomUUID(),
        type: "text",
      });
      const unavailable = { code: "SERVICE_UNAVAILABLE", status: 503, problem: "unavailable" };
      expectSameError(
        (await onSocket(socket, "sync.mutate", { ops: [op()] })).error,
        await onTrpc(owner, "sync.mutate", { canvas_id: canvas, ops: [op()] }),
        await onRest(owner, `/api/v1/canvas/${canvas}/mutate`, { ops: [op()] }),
        unavailable,
      );
      expectSameError(
        (await onSocket(socket, "sync.presence", { typing: true })).error,
        await onTrpc(owner, "sync.presence", { canvas_id: canvas, typing: true }),
        await onRest(owner, `/api/v1/canvas/${canvas}/presence`, { typing: true }),
        unavailable,
      );
      // The database's own text never reaches a client (SEC-6).
      const frame = await onSocket(socket, "sync.mutate", { ops: [op()] });
      expect(JSON.stringify(frame)).not.toMatch(/ECONNREFUSED|5432/);
    } finally {
      db.query = query;
      db.transaction = transaction;
    }
    const again = await onSocket(socket, "sync.mutate", {
      ops: [{ client_op_id: randomUUID(), action: "create", block_id: randomUUID(), type: "text" }],
    });
    const results = (again.result?.data as { results: { status: string }[] } | undefined)?.results;
    expect(results?.[0]?.status).toBe("success");
  });
});
