import { randomUUID } from "node:crypto";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CloseCodes } from "../../server/protocol/closeCodes";
import { startTestApi, type TestApi, type TestUser } from "../support/apiHarness";
import { type Frame, TestWsClient } from "../support/wsClient";

/**
 * Socket fuzz (SEC-5, SEC-6, RT-6): random frames at H1 — lone messages and batch frames of up to
 * 60 calls, odd JSON-RPC (ids huge, fractional, long, of the wrong type; missing or wrong
 * params; unknown methods and paths), bad `lastEventId` and `since_seq`, junk and deeply nested
 * JSON, oversize frames, PINGs. Properties, for every frame: no answer is a 500; the socket is
 * only ever closed for flooding (1008) or size (1009); every call with a usable id is answered
 * under that id unless the socket was closed; and no stored row changes (the writer's ops are
 * invalid by construction, the reader may not write). Seed: FUZZ_SEED, logged; runs: WS_FUZZ_RUNS
 * (default 150).
 */
const RUNS = Number(process.env.WS_FUZZ_RUNS ?? 150);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const TABLES: Record<string, string> = {
  canvas: "SELECT canvas_id, title, settings, deleted_at FROM canvas ORDER BY canvas_id",
  blocks: "SELECT block_id, content, props, version, y_order, deleted_at FROM blocks ORDER BY block_id",
  block_operations: "SELECT count(*)::int AS n FROM block_operations",
  // last_active_at is presence's own (RT-7): touched by valid presence, nothing else may change.
  canvas_members: "SELECT canvas_id, user_id, role FROM canvas_members ORDER BY canvas_id, user_id",
  users: "SELECT user_id, email, name FROM users ORDER BY user_id",
};

let api: TestApi;
let wsBase: string;
let writer: TestUser;
let reader: TestUser;
let canvas: string;
let block: string;

beforeAll(async () => {
  api = await startTestApi({
    // A budget this large lets the fuzzer's calls run rather than be refused (the budget has its
    // own tests in server/realtime/socketLimits.int.test.ts); sockets are opened per run.
    RATE_LIMITS: JSON.stringify({
      H1: { points: 100_000, duration: 1 },
      H2: { points: 100_000, duration: 1 },
      H3: { points: 100_000, duration: 1 },
      RPC: { points: 1_000_000, duration: 60 },
    }),
    WS_MAX_SOCKETS_PER_USER_CANVAS: "1000",
    WS_MAX_SOCKETS_PER_USER: "1000",
  });
  wsBase = api.url.replace(/^http/, "ws");
  writer = await api.user("Writer");
  reader = await api.user("Reader");
  canvas = await api.canvas(writer);
  await api.member(canvas, reader, "reader");
  block = randomUUID();
  const res = await writer.fetch(`/api/v1/canvas/${canvas}/mutate`, {
    method: "POST",
    json: {
      ops: [{ client_op_id: randomUUID(), action: "create", block_id: block, type: "text", content: "x" }],
    },
  });
  expect(res.status).toBe(200);
});
afterAll(async () => api?.stop());

async function snapshot(): Promise<string> {
  const out: Record<string, unknown> = {};
  for (const [name, sql] of Object.entries(TABLES)) out[name] = await api.app.deps.db.query(sql);
  return JSON.stringify(out);
}

const connect = (user: TestUser) => TestWsClient.open(`${wsBase}/ws/canvas/${canvas}?token=${user.token}`);

const isServerError = (f: Frame) =>
  f.error !== undefined &&
  ((f.error.data as { httpStatus?: number } | undefined)?.httpStatus === 500 ||
    f.error.data?.code === "INTERNAL_SERVER_ERROR");

/** The id an answer comes back under, when the call has one the server can echo. */
function usableId(call: unknown): number | string | undefined {
  if (!call || typeof call !== "object" || Array.isArray(call)) return undefined;
  const id = (call as { id?: unknown }).id;
  if (typeof id === "number") return id;
  if (typeof id === "string" && id.length <= 64) return id;
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Arbitraries

const oddNumber = fc.constantFrom(1e308, -1e308, 2 ** 53, 2 ** 53 + 2, 2 ** 31, -1, -0, 1.5, 0);
const id = fc.oneof(
  { weight: 4, arbitrary: fc.nat({ max: 2 ** 31 }) },
  oddNumber,
  fc.string({ maxLength: 80 }),
  fc.constantFrom("x".repeat(1000), null, true, {}, [], "\ud800", "1"),
);
const lastEventId = fc.oneof(
  fc.stringMatching(/^\d{1,40}$/),
  fc.constantFrom("-1", "1e5", "0x10", " 1", "", "9".repeat(32), "1.5"),
  fc.string({ maxLength: 40 }),
  fc.integer(),
);
const sinceSeq = fc.oneof(fc.nat(), oddNumber, fc.constantFrom(null, "5", "", [], {}));
const cursorValue = fc.oneof(fc.integer({ min: -2e9, max: 2e9 }), oddNumber, fc.constantFrom("1", null));
const blockIdValue = fc.oneof(
  fc.uuid(),
  fc.constantFrom("nope", "", null, 1),
  fc.constant("BLOCK"), // replaced by the canvas's real block
);
const presenceInput = fc.record(
  {
    cursor: fc.oneof(
      fc.constant(null),
      fc.record({ x: cursorValue, y: cursorValue }),
      fc.jsonValue({ maxDepth: 2 }),
    ),
    block_id: blockIdValue,
    typing: fc.oneof(fc.boolean(), fc.constantFrom("yes", 1, null)),
    color: fc.string({ maxLength: 5 }),
  },
  { requiredKeys: [] },
);
/** Ops that can never apply: every one carries a field opSchema refuses (it is strict). */
const invalidOp = fc
  .record(
    {
      client_op_id: fc.oneof(fc.uuid(), fc.string({ maxLength: 10 })),
      action: fc.constantFrom("create", "update", "delete", "nope"),
      block_id: fc.oneof(fc.uuid(), fc.constant("BLOCK")),
      base_version: fc.oneof(fc.nat(), oddNumber),
      content: fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom("a\u0000b", "\ud83d")),
      text_op: fc.oneof(
        fc.constant([1e8, "x"]),
        fc.constant([9999999999, "x"]),
        fc.jsonValue({ maxDepth: 2 }),
      ),
      props: fc.jsonValue({ maxDepth: 3 }),
    },
    { requiredKeys: ["action"] },
  )
  .map((op) => ({ ...op, zz_not_a_field: 1 }));
const mutateInput = fc.oneof(
  fc.record({ ops: fc.array(invalidOp, { minLength: 1, maxLength: 5 }) }),
  fc.constantFrom({ ops: [] }, { ops: "nope" }, {}, null, { ops: Array.from({ length: 51 }, () => ({})) }),
);
const eventsInput = fc.oneof(
  fc.record({ since_seq: sinceSeq }, { requiredKeys: [] }),
  fc.constantFrom(undefined, null, "x", { since_seq: 0, extra: 1 }),
);
const path = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("sync.events", "sync.mutate", "sync.presence", "sync.leave") },
  fc.string({ maxLength: 120 }),
);
const method = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("query", "mutation", "subscription", "subscription.stop") },
  fc.string({ maxLength: 12 }),
);
const call = fc
  .record(
    {
      id,
      jsonrpc: fc.constantFrom("2.0", "1.0", 2),
      method,
      path,
      lastEventId,
      presence: presenceInput,
      mutate: mutateInput,
      events: eventsInput,
      junk: fc.jsonValue({ maxDepth: 3 }),
      paramsShape: fc.constantFrom("normal", "normal", "normal", "missing", "array", "string"),
    },
    { requiredKeys: ["id", "method", "path", "paramsShape"] },
  )
  .map((c) => {
    const input =
      c.path === "sync.presence"
        ? c.presence
        : c.path === "sync.mutate"
          ? c.mutate
          : c.path === "sync.events"
            ? c.events
            : c.junk;
    const params =
      c.paramsShape === "missing"
        ? undefined
        : c.paramsShape === "array"
          ? [c.path]
          : c.paramsShape === "string"
            ? c.path
            : { path: c.path, input, ...(c.lastEventId !== undefined ? { lastEventId: c.lastEventId } : {}) };
    return {
      id: c.id,
      ...(c.jsonrpc !== undefined ? { jsonrpc: c.jsonrpc } : {}),
      method: c.method,
      ...(params !== undefined ? { params } : {}),
    };
  });

const deep = (n: number) => `${"[".repeat(n)}${"]".repeat(n)}`;
const rawFrame = fc.constantFrom(
  "PING",
  "PONG",
  "not json",
  "[",
  "{}",
  "[]",
  "null",
  "1e308",
  '"PING"',
  deep(20_000),
  `{"id":1,"method":"mutation","params":{"path":"sync.presence","input":{"cursor":${deep(10_000)}}}}`,
  `{"id":2,"method":"mutation","params":{"path":"sync.mutate","input":{"ops":[{"action":"create","props":${deep(10_000)}}]}}}`,
  `[${Array.from({ length: 60 }, (_, i) => `{"id":${i}}`).join(",")}]`,
);
const oversize = fc.constant(
  JSON.stringify({ id: 1, method: "mutation", params: { path: "x".repeat(70 * 1024) } }),
);

/** One frame: a message, a batch, or raw text. */
const frame = fc.oneof(
  { weight: 5, arbitrary: call },
  {
    weight: 4,
    arbitrary: fc.array(fc.oneof({ weight: 9, arbitrary: call }, fc.jsonValue({ maxDepth: 2 })), {
      maxLength: 60,
      size: "max",
    }),
  },
  { weight: 2, arbitrary: rawFrame },
  { weight: 1, arbitrary: oversize },
  // (1 in 12 frames closes its socket with 1009: the rest of that run goes unanswered, by design)
);

// ---------------------------------------------------------------------------------------------

describe("socket fuzz (SEC-5, SEC-6, RT-6)", () => {
  it("SEC-6: a 32-digit lastEventId (or a since_seq past 2^53) is refused as bad input, never a 500", async () => {
    const client = await connect(reader);
    try {
      const bad = [
        {
          id: 101,
          method: "subscription",
          params: { path: "sync.events", input: {}, lastEventId: "9".repeat(32) },
        },
        { id: 102, method: "subscription", params: { path: "sync.events", input: { since_seq: 2 ** 53 } } },
        { id: 103, method: "subscription", params: { path: "sync.events", input: {}, lastEventId: "12a" } },
      ];
      for (const m of bad) client.send(m);
      await client.until(() => [101, 102, 103].every((i) => client.frames.some((f) => f.id === i)));
      for (const i of [101, 102, 103]) {
        const answers = client.frames.filter((f) => f.id === i);
        expect(answers, `call ${i}`).toHaveLength(1);
        expect(answers[0]!.error?.data?.code, `call ${i}`).toBe("BAD_REQUEST");
      }
      // Nothing was left half attached: a proper subscription works and an op reaches only it.
      const sub = client.subscribe({}, "0");
      await client.until(() => client.frames.some((f) => f.id === sub && f.result?.type === "started"));
      const res = await writer.fetch(`/api/v1/canvas/${canvas}/mutate`, {
        method: "POST",
        json: {
          ops: [
            {
              client_op_id: randomUUID(),
              action: "update",
              block_id: block,
              base_version: 1,
              props: { a: 1 },
            },
          ],
        },
      });
      expect(res.status).toBe(200);
      await client.until(() => client.opsOf(sub).some((o) => o.block_id === block && o.action === "update"));
      expect(client.frames.filter((f) => [101, 102, 103].includes(f.id as number) && f.result)).toHaveLength(
        0,
      );
    } finally {
      client.close();
    }
  });

  it("SEC-6: on the socket, unstorable text, ints past their column and deep props are per-op invalid_op, never a 500", async () => {
    const client = await connect(writer);
    try {
      const ok = {
        client_op_id: randomUUID(),
        action: "create",
        block_id: randomUUID(),
        type: "text",
        content: "ok",
      };
      const ops = [
        {
          client_op_id: randomUUID(),
          action: "create",
          block_id: randomUUID(),
          type: "text",
          content: "a\u0000b",
        },
        {
          client_op_id: randomUUID(),
          action: "update",
          block_id: block,
          base_version: 2 ** 31,
          content: "y",
        },
        {
          client_op_id: randomUUID(),
          action: "update",
          block_id: block,
          base_version: 1,
          text_op: [1, "\ud83d"],
        },
        {
          client_op_id: randomUUID(),
          action: "update",
          block_id: block,
          base_version: 1,
          text_op: [1e8, "x"],
        },
        ok,
      ];
      const id = client.mutation("sync.mutate", { ops });
      await client.until(() => client.frames.some((f) => f.id === id));
      const answer = client.frames.find((f) => f.id === id)!;
      expect(answer.error).toBeUndefined();
      const results = (answer.result!.data as { results: { status: string; error?: { code: string } }[] })
        .results;
      expect(results.slice(0, 4).map((r) => r.error?.code)).toEqual([
        "invalid_op",
        "invalid_op",
        "invalid_op",
        "invalid_op",
      ]);
      expect(results[4]!.status).toBe("success");
      // Props nested 5,000 deep, on the socket as on REST.
      // (built as text: JSON.stringify itself overflows the stack on it)
      const props = `${'{"a":'.repeat(5_000)}1${"}".repeat(5_000)}`;
      const deepId = 9_999;
      client.send(
        `{"id":${deepId},"method":"mutation","params":{"path":"sync.mutate","input":{"ops":[{"client_op_id":"${randomUUID()}","action":"create","block_id":"${randomUUID()}","type":"text","props":${props}}]}}}`,
      );
      await client.until(() => client.frames.some((f) => f.id === deepId));
      const deepAnswer = client.frames.find((f) => f.id === deepId)!;
      expect(isServerError(deepAnswer)).toBe(false);
      const deepResults = (
        deepAnswer.result?.data as { results?: { error?: { code: string } }[] } | undefined
      )?.results;
      if (deepResults) expect(deepResults[0]!.error?.code).toBe("invalid_op");
      else expect(deepAnswer.error?.data?.code).toBe("BAD_REQUEST");
    } finally {
      client.close();
    }
  });

  it("SEC-5/SEC-6: random frames (batches, odd JSON-RPC, huge ids, bad lastEventId) never get a 500, never go unanswered, change nothing", async () => {
    console.log(`H1 fuzz: seed ${SEED}, ${RUNS} runs (FUZZ_SEED / WS_FUZZ_RUNS to replay)`);
    const before = await snapshot();
    const seen = { calls: 0, answers: 0, closed: 0 };
    const property = fc.asyncProperty(
      fc.boolean(),
      fc.array(frame, { minLength: 1, maxLength: 3 }),
      async (asWriter, frames) => {
        const client = await connect(asWriter ? writer : reader);
        try {
          const expected = new Set<number | string>();
          for (const f of frames) {
            const text =
              typeof f === "string" ? f : JSON.stringify(f).replaceAll('"BLOCK"', JSON.stringify(block));
            const calls = typeof f === "string" ? [] : Array.isArray(f) ? f : [f];
            for (const c of calls) {
              const i = usableId(c);
              if (i !== undefined) expected.add(i);
            }
            client.send(text);
          }
          const answered = () =>
            new Set(client.frames.map((f) => f.id).filter((i) => i !== undefined && i !== null));
          await client.until(() => {
            if (client.closeCode !== null) return true;
            const got = answered();
            return [...expected].every((i) => got.has(i));
          }, 20_000);
          seen.calls += expected.size;
          seen.answers += client.frames.length;
          if (client.closeCode !== null) seen.closed++;
          const errors = client.frames.filter(isServerError);
          expect(errors, JSON.stringify(errors[0])).toEqual([]);
          if (client.closeCode !== null)
            expect([CloseCodes.POLICY_VIOLATION, CloseCodes.MESSAGE_TOO_BIG]).toContain(client.closeCode);
        } finally {
          client.close();
        }
      },
    );
    await fc.assert(property, { seed: SEED, numRuns: RUNS, endOnFailure: true });
    console.log(
      `H1 fuzz: ${seen.calls} calls with ids, ${seen.answers} frames back, ${seen.closed} sockets closed`,
    );
    expect(await snapshot()).toBe(before);
    // The server is fine: /health answers and a fresh socket still gets its answer.
    expect((await fetch(`${api.url}/health`)).status).toBe(200);
    const fresh = await connect(reader);
    try {
      fresh.send("PING");
      await fresh.until(() => fresh.frames.some((f) => f.result?.type === "pong"));
    } finally {
      fresh.close();
    }
  });
});
