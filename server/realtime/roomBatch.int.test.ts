import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi, type TestUser } from "../../tests/support/apiHarness";
import { TestWsClient } from "../../tests/support/wsClient";
import { BATCH_MIN_SUBSCRIBERS } from "./room";

let api: TestApi;
let owner: TestUser;
const open: TestWsClient[] = [];

beforeAll(async () => {
  api = await startTestApi({
    RATE_LIMITS: JSON.stringify({
      H2: { points: 1_000, duration: 1 },
      RPC: { points: 100_000, duration: 60 },
    }),
  });
  owner = await api.user("Owner");
});
afterAll(async () => {
  for (const c of open) c.close();
  await api?.stop();
});

describe("batched delivery in a big room (RT-3)", () => {
  it("every subscriber gets every op once, in server_seq order, prev_seq chained, across batch windows", async () => {
    const canvas = await api.canvas(owner);
    const url = `${api.url.replace(/^http/, "ws")}/ws/canvas/${canvas}?token=${owner.token}`;
    const subs: [TestWsClient, number][] = [];
    for (let i = 0; i < BATCH_MIN_SUBSCRIBERS + 6; i++) {
      const client = await TestWsClient.open(url);
      open.push(client);
      subs.push([client, client.subscribe()]);
    }
    for (const [c, id] of subs)
      await c.until(() => c.frames.some((f) => f.id === id && f.result?.type === "started"));

    const ops = 24;
    const results = await Promise.all(
      Array.from({ length: ops }, async () => {
        const res = await owner.fetch(`/api/v1/canvas/${canvas}/mutate`, {
          method: "POST",
          json: {
            ops: [
              {
                client_op_id: randomUUID(),
                action: "create",
                block_id: randomUUID(),
                type: "text",
                content: "x",
              },
            ],
          },
        });
        expect(res.status).toBe(200);
        return ((await res.json()) as { results: { server_seq: number }[] }).results[0]!.server_seq;
      }),
    );
    const expected = [...results].sort((a, b) => a - b);
    for (const [c, id] of subs) {
      await c.until(() => c.opsOf(id).length >= ops);
      const got = c.opsOf(id);
      expect(got.map((e) => e.server_seq)).toEqual(expected);
      for (let i = 1; i < got.length; i++) expect(got[i]!.prev_seq).toBe(got[i - 1]!.server_seq);
    }
  });
});
