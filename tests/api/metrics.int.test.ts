import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startTestApi, type TestApi } from "../support/apiHarness";
import { TestWsClient } from "../support/wsClient";

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => api?.stop());

/** The value of one sample line of the Prometheus text, or 0. */
function sample(text: string, name: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(" ")[1]) : 0;
}

it("OPS-1: commits, conflicts, sockets and fan-out delays are counted, without user or canvas labels", async () => {
  const owner = await api.user();
  const canvas = await api.canvas(owner);
  const client = await TestWsClient.open(
    `${api.url.replace(/^http/, "ws")}/ws/canvas/${canvas}?token=${owner.token}`,
  );
  const sub = client.subscribe();
  await client.until(() => client.frames.some((f) => f.id === sub && f.result?.type === "started"));
  const block = randomUUID();
  const mutate = (ops: unknown[]) =>
    owner.fetch(`/api/v1/canvas/${canvas}/mutate`, { method: "POST", json: { ops } });
  await mutate([
    { client_op_id: randomUUID(), action: "create", block_id: block, type: "text", content: "a" },
  ]);
  await mutate([
    { client_op_id: randomUUID(), action: "update", block_id: block, base_version: 1, content: "b" },
  ]);
  await mutate([
    { client_op_id: randomUUID(), action: "update", block_id: block, base_version: 1, content: "c" },
  ]);
  await client.until(() => client.opsOf(sub).length === 2);
  const text = await (await api.anonymous("/metrics")).text();
  expect(sample(text, 'potentia_ops_total{status="success"}')).toBe(2);
  expect(sample(text, 'potentia_ops_total{status="conflict"}')).toBe(1);
  expect(sample(text, "potentia_conflicts_total")).toBe(1);
  expect(sample(text, "potentia_op_commit_seconds_count")).toBe(3);
  expect(sample(text, "potentia_ws_connections")).toBe(1);
  expect(sample(text, "potentia_fanout_delay_seconds_count")).toBe(2);
  expect(text).not.toContain(canvas);
  expect(text).not.toContain(owner.userId);
  client.close();
});
