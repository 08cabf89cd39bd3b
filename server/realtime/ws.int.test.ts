import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi, type TestUser } from "../../tests/support/apiHarness";
import { TestWsClient } from "../../tests/support/wsClient";
import { CloseCodes } from "../protocol/closeCodes";

let api: TestApi;
let owner: TestUser;
let wsBase: string;
const open: TestWsClient[] = [];

beforeAll(async () => {
  api = await startTestApi({ ALLOWED_ORIGINS: "http://app.example" });
  owner = await api.user("Owner");
  wsBase = api.url.replace(/^http/, "ws");
});
afterAll(async () => {
  for (const c of open) c.close();
  await api?.stop();
});

async function connect(user: TestUser, canvasId: string, extra = ""): Promise<TestWsClient> {
  const client = await TestWsClient.open(`${wsBase}/ws/canvas/${canvasId}?token=${user.token}${extra}`);
  open.push(client);
  return client;
}

const createOp = (blockId = randomUUID()) => ({
  client_op_id: randomUUID(),
  action: "create",
  block_id: blockId,
  type: "text",
  content: "hi",
});

async function restMutate(user: TestUser, canvasId: string, ops: unknown[]) {
  const res = await user.fetch(`/api/v1/canvas/${canvasId}/mutate`, { method: "POST", json: { ops } });
  expect(res.status).toBe(200);
  return (await res.json()) as { results: { server_seq: number; status: string }[] };
}

describe("WebSocket sync (RT)", () => {
  it("RT-1: token, Origin and membership are checked before the upgrade, as plain HTTP", async () => {
    const canvas = await api.canvas(owner);
    const stranger = await api.user("Stranger");
    expect(await TestWsClient.refusal(`${wsBase}/ws/canvas/${canvas}`)).toBe(401);
    expect(await TestWsClient.refusal(`${wsBase}/ws/canvas/${canvas}?token=not-a-jwt`)).toBe(401);
    expect(await TestWsClient.refusal(`${wsBase}/ws/canvas/${canvas}?token=${stranger.token}`)).toBe(404);
    expect(await TestWsClient.refusal(`${wsBase}/ws/canvas/${randomUUID()}?token=${owner.token}`)).toBe(404);
    expect(
      await TestWsClient.refusal(`${wsBase}/ws/canvas/${canvas}?token=${owner.token}`, {
        origin: "http://evil.example",
      }),
    ).toBe(403);
    // The token as a subprotocol, with potentia.v2 selected (RT-9).
    const client = await TestWsClient.open(`${wsBase}/ws/canvas/${canvas}`, {
      protocols: ["potentia.v2", `bearer.${owner.token}`],
      origin: "http://app.example",
    });
    open.push(client);
    expect(client.ws.protocol).toBe("potentia.v2");
  });

  it("RT-2/RT-3: subscribers get every op once, in server_seq order, prev_seq chained; readers cannot mutate", async () => {
    const canvas = await api.canvas(owner);
    const reader = await api.user("Reader");
    await api.member(canvas, reader, "reader");
    const a = await connect(owner, canvas);
    const b = await connect(reader, canvas);
    const subA = a.subscribe();
    const subB = b.subscribe();
    await a.until(() => a.frames.some((f) => f.id === subA && f.result?.type === "started"));
    await b.until(() => b.frames.some((f) => f.id === subB && f.result?.type === "started"));
    await new Promise((r) => setTimeout(r, 100));
    const viaRest = await restMutate(owner, canvas, [createOp(), createOp()]);
    const m = a.mutation("sync.mutate", { ops: [createOp()] });
    await a.until(() => a.frames.some((f) => f.id === m && f.result?.type === "data"));
    const wsResult = a.frames.find((f) => f.id === m)!.result!.data as { results: { server_seq: number }[] };
    const expected = [...viaRest.results.map((r) => r.server_seq), wsResult.results[0]!.server_seq];
    await a.until(() => a.opsOf(subA).length === 3);
    await b.until(() => b.opsOf(subB).length === 3);
    for (const ops of [a.opsOf(subA), b.opsOf(subB)]) {
      expect(ops.map((o) => o.server_seq)).toEqual(expected);
      expect(ops[0]!.prev_seq).toBeNull();
      expect(ops[1]!.prev_seq).toBe(ops[0]!.server_seq);
      expect(ops[2]!.prev_seq).toBe(ops[1]!.server_seq);
    }
    const denied = b.mutation("sync.mutate", { ops: [createOp()] });
    await b.until(() => b.frames.some((f) => f.id === denied));
    expect(b.frames.find((f) => f.id === denied)!.error!.data!.code).toBe("FORBIDDEN");
  });

  it("RT-4: a hole in the chain (a lost pub/sub message) is healed from the op log", async () => {
    const canvas = await api.canvas(owner);
    const a = await connect(owner, canvas);
    const sub = a.subscribe();
    await a.until(() => a.frames.some((f) => f.id === sub && f.result?.type === "started"));
    await new Promise((r) => setTimeout(r, 100));
    // An op committed without a publish (as if its pub/sub message was lost)...
    const lost = createOp();
    await api.app.deps.db.transaction(async (tx) => {
      await tx.query("SELECT rpc_upsert_block_atomic($1, $2, $3::jsonb, '{}'::jsonb)", [
        canvas,
        owner.userId,
        JSON.stringify(lost),
      ]);
    });
    // ...then a normal one: its prev_seq points at the lost op, which the room fetches first.
    await restMutate(owner, canvas, [createOp()]);
    await a.until(() => a.opsOf(sub).length === 2);
    const ops = a.opsOf(sub);
    expect(ops[0]!.block_id).toBe(lost.block_id);
    expect(ops[1]!.prev_seq).toBe(ops[0]!.server_seq);
  });

  it("RT-4: a lost last op (no later op, no reconnect) still arrives within seconds", async () => {
    const canvas = await api.canvas(owner);
    const a = await connect(owner, canvas);
    const sub = a.subscribe();
    await a.until(() => a.frames.some((f) => f.id === sub && f.result?.type === "started"));
    const lost = createOp();
    await api.app.deps.db.transaction(async (tx) => {
      await tx.query("SELECT rpc_upsert_block_atomic($1, $2, $3::jsonb, '{}'::jsonb)", [
        canvas,
        owner.userId,
        JSON.stringify(lost),
      ]);
    });
    await a.until(() => a.opsOf(sub).length === 1, 9_000);
    expect(a.opsOf(sub)[0]!.block_id).toBe(lost.block_id);
  });

  it("RT-5: since_seq replays from the op log (deletes included) before live events, with no gap and no duplicate", async () => {
    const canvas = await api.canvas(owner);
    const first = await restMutate(owner, canvas, [createOp(), createOp()]);
    const block = randomUUID();
    await restMutate(owner, canvas, [createOp(block)]);
    await restMutate(owner, canvas, [
      { client_op_id: randomUUID(), action: "delete", block_id: block, base_version: 1 },
    ]);
    const since = first.results[1]!.server_seq;
    const a = await connect(owner, canvas);
    const sub = a.subscribe({ since_seq: since });
    const live = restMutate(owner, canvas, [createOp()]);
    await live;
    await a.until(() => a.opsOf(sub).length === 3);
    await new Promise((r) => setTimeout(r, 200));
    const ops = a.opsOf(sub);
    expect(ops.map((o) => o.action)).toEqual(["create", "delete", "create"]);
    expect(ops[0]!.prev_seq).toBe(since);
    for (let i = 1; i < ops.length; i++) expect(ops[i]!.prev_seq).toBe(ops[i - 1]!.server_seq);
    // Resuming with lastEventId works the same way; a since_seq ahead of the log asks for a resync.
    const b = await connect(owner, canvas);
    const ahead = b.subscribe({ since_seq: 10_000_000_000 });
    await b.until(() => b.dataOf(ahead).some((d) => (d as { type?: string }).type === "resync"));
  });

  it("RT-7: join, presence and leave reach the other subscribers; the registry agrees", async () => {
    const canvas = await api.canvas(owner);
    const guest = await api.user("Guest");
    await api.member(canvas, guest, "writer");
    const a = await connect(owner, canvas);
    const sub = a.subscribe();
    await a.until(() => a.frames.some((f) => f.id === sub && f.result?.type === "started"));
    const b = await connect(guest, canvas);
    type Ev = {
      type: string;
      users?: { user_id: string; name: string }[];
      user_id?: string;
      name?: string;
      cursor?: unknown;
    };
    const events = () => a.dataOf(sub) as Ev[];
    await a.until(() =>
      events().some((e) => e.type === "join" && e.users?.some((u) => u.user_id === guest.userId)),
    );
    expect(
      events()
        .find((e) => e.type === "join")!
        .users!.find((u) => u.user_id === guest.userId)!.name,
    ).toBe("Guest");
    expect(await api.app.deps.presence.online(canvas)).toContain(guest.userId);
    // A8 answers from the same registry.
    const perms = async () =>
      (
        (await (await owner.fetch(`/api/v1/canvas/${canvas}/permissions`)).json()) as {
          users: { user_id: string; online: boolean }[];
        }
      ).users.find((u) => u.user_id === guest.userId)!.online;
    expect(await perms()).toBe(true);
    b.mutation("sync.presence", { cursor: { x: 10, y: 20 }, typing: true });
    const presence = () => events().find((e) => e.type === "presence");
    await a.until(() => presence() !== undefined);
    // RT-10: a batch, here of one user.
    expect(presence()).toEqual({
      type: "presence",
      users: [
        { user_id: guest.userId, name: "Guest", cursor: { x: 10, y: 20 }, block_id: null, typing: true },
      ],
    });
    b.close();
    await a.until(() => events().some((e) => e.type === "leave" && e.user_id === guest.userId));
    expect(await api.app.deps.presence.online(canvas)).not.toContain(guest.userId);
    expect(await perms()).toBe(false);
  });

  it("RT-6: an oversize message closes 1009; a flood gets errors, then 1008; garbage never crashes", async () => {
    const canvas = await api.canvas(owner);
    const a = await connect(owner, canvas);
    a.send("not json");
    a.send({ id: 1, method: "mutation", params: { path: "sync.nope", input: {} } });
    await a.until(() => a.frames.length >= 2);
    expect(a.frames[0]!.error!.data!.code).toBe("PARSE_ERROR");
    expect(a.frames[1]!.error).toBeDefined();
    a.send("x".repeat(70 * 1024));
    await a.until(() => a.closeCode !== null);
    expect(a.closeCode).toBe(CloseCodes.MESSAGE_TOO_BIG);

    const b = await connect(owner, canvas);
    for (let i = 0; i < 60; i++) b.send({ id: i, method: "query", params: { path: "sync.nope" } });
    await b.until(() => b.closeCode !== null);
    expect(b.closeCode).toBe(CloseCodes.POLICY_VIOLATION);
    // Each refused call is answered under its own id (a client's pending call settles and retries).
    const refused = b.frames.filter((f) => f.error?.data?.code === "TOO_MANY_REQUESTS");
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((f) => typeof (f as { id?: unknown }).id === "number")).toBe(true);
    // The server is fine and others are unaffected.
    const c = await connect(owner, canvas);
    c.send("PING");
    await c.until(() => c.frames.length === 1);
  });

  it("RT-6: an expired token closes 4401; losing membership closes 4403 within 5 s", async () => {
    const canvas = await api.canvas(owner);
    const shortLived = await api.app.deps.tokens.issue(owner.userId, undefined, 2);
    const a = await TestWsClient.open(`${wsBase}/ws/canvas/${canvas}?token=${shortLived}`);
    open.push(a);
    const writer = await api.user("Writer");
    await api.member(canvas, writer, "writer");
    const b = await connect(writer, canvas);
    // Removed straight in the database: no control message, so the periodic check must catch it.
    await api.app.deps.db.query("DELETE FROM canvas_members WHERE canvas_id = $1 AND user_id = $2", [
      canvas,
      writer.userId,
    ]);
    const removedAt = Date.now();
    await b.until(() => b.closeCode !== null, 8_000);
    expect(b.closeCode).toBe(CloseCodes.FORBIDDEN);
    expect(Date.now() - removedAt).toBeLessThan(5_500);
    await a.until(() => a.closeCode !== null, 8_000);
    expect(a.closeCode).toBe(CloseCodes.TOKEN_EXPIRED);
  });
});
