import { randomUUID } from "node:crypto";
import { createTRPCClient, createWSClient, wsLink } from "@trpc/client";
import { initTRPC } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { z } from "zod";
import { startTestApi, type TestApi, type TestUser } from "../../tests/support/apiHarness";
import { TestWsClient } from "../../tests/support/wsClient";
import { CloseCodes } from "../protocol/closeCodes";

// The shape of the socket's procedures, for @trpc/client's types only (nothing of it runs).
const t = initTRPC.create();
const shape = t.router({
  sync: t.router({
    events: t.procedure
      .input(z.object({ since_seq: z.number().optional() }).optional())
      .subscription(async function* () {
        yield {} as { id: string; data: { type: string; server_seq: number } };
      }),
    mutate: t.procedure
      .input(z.object({ ops: z.array(z.unknown()) }))
      .mutation(() => ({ results: [] as { status: string }[] })),
  }),
});

let api: TestApi;
let owner: TestUser;
let wsBase: string;

beforeAll(async () => {
  api = await startTestApi({
    WS_HEARTBEAT_MS: "300",
    WS_MAX_BUFFERED_BYTES: String(512 * 1024),
    RATE_LIMITS: JSON.stringify({ H2: { points: 1000, duration: 1 }, RPC: { points: 100000, duration: 60 } }),
  });
  owner = await api.user("Owner");
  wsBase = api.url.replace(/^http/, "ws");
});
afterAll(async () => api?.stop());

const create = (content = "x") => ({
  client_op_id: randomUUID(),
  action: "create",
  block_id: randomUUID(),
  type: "text",
  content,
});

describe("socket liveness and clients (RT-1, RT-6)", () => {
  it("RT-1: @trpc/client's wsLink speaks the socket unchanged (plain JSON, tracked events)", async () => {
    const canvas = await api.canvas(owner);
    const wsClient = createWSClient({
      url: `${wsBase}/ws/canvas/${canvas}?token=${owner.token}`,
      WebSocket: WebSocket as never,
    });
    const client = createTRPCClient<typeof shape>({ links: [wsLink({ client: wsClient })] });
    const received: { type: string; server_seq: number }[] = [];
    const sub = client.sync.events.subscribe(undefined, {
      // A tracked event arrives as { id, data } (the id is what the client resumes from).
      onData: (d) =>
        received.push((d as { data?: { type: string; server_seq: number } }).data ?? (d as never)),
    });
    try {
      await new Promise((r) => setTimeout(r, 300));
      const out = await client.sync.mutate.mutate({ ops: [create(), create()] });
      expect(out.results.map((r) => r.status)).toEqual(["success", "success"]);
      const deadline = Date.now() + 5_000;
      const ops = () => received.filter((e) => e.type === "op");
      while (ops().length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(ops()).toHaveLength(2);
      expect(ops()[1]!.server_seq).toBeGreaterThan(ops()[0]!.server_seq);
    } finally {
      sub.unsubscribe();
      await wsClient.close();
    }
  });

  it("RT-6: a socket that stops answering pings is dropped by the heartbeat", async () => {
    const canvas = await api.canvas(owner);
    const dead = new WebSocket(`${wsBase}/ws/canvas/${canvas}?token=${owner.token}`, { autoPong: false });
    const code = await new Promise<number>((resolve, reject) => {
      dead.once("close", (c) => resolve(c));
      dead.once("error", reject);
    });
    // terminate() gives the client an abnormal closure (1006): no close frame from a dead peer.
    expect(code).toBe(1006);
  });

  it("RT-6: a slow consumer is cut off without slowing the others", async () => {
    // Its own server with the normal heartbeat: the 300 ms one above could drop the fast reader
    // too when a loaded machine stalls this process (it runs both ends) for a moment.
    const api = await startTestApi({
      WS_MAX_BUFFERED_BYTES: String(512 * 1024),
      RATE_LIMITS: JSON.stringify({
        H2: { points: 1000, duration: 1 },
        RPC: { points: 100000, duration: 60 },
      }),
    });
    try {
      const owner = await api.user("Owner");
      const wsBase = api.url.replace(/^http/, "ws");
      const canvas = await api.canvas(owner);
      const slow = await TestWsClient.open(`${wsBase}/ws/canvas/${canvas}?token=${owner.token}`);
      const fast = await TestWsClient.open(`${wsBase}/ws/canvas/${canvas}?token=${owner.token}`);
      const slowSub = slow.subscribe();
      const fastSub = fast.subscribe();
      await slow.until(() => slow.frames.some((f) => f.id === slowSub));
      await fast.until(() => fast.frames.some((f) => f.id === fastSub));
      // The slow client stops reading from its socket.
      (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
      const big = "y".repeat(18_000);
      let sent = 0;
      for (let i = 0; i < 40; i++) {
        const res = await owner.fetch(`/api/v1/canvas/${canvas}/mutate`, {
          method: "POST",
          json: { ops: Array.from({ length: 12 }, () => create(big)) },
        });
        expect(res.status).toBe(200);
        sent += 12;
        // The fast reader keeps up with every request (on a loaded machine the test process, which
        // also runs the server, could otherwise fall behind and be cut off as slow itself).
        await fast.until(() => fast.opsOf(fastSub).length === sent, 30_000);
      }
      (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
      await slow.until(() => slow.closeCode !== null, 30_000);
      // 4408 when the close frame gets through; 1006 when the server had to terminate a socket
      // whose reader stayed stuck behind megabytes of backlog.
      expect([CloseCodes.SLOW_CONSUMER, 1006]).toContain(slow.closeCode);
      expect(fast.closeCode).toBeNull();
      expect(slow.opsOf(slowSub).length).toBeLessThan(sent);
      fast.close();
    } finally {
      await api.stop();
    }
  }, 120_000);

  it("OPS-5: on shutdown, sockets are told to reconnect (1001)", async () => {
    const other = await startTestApi();
    try {
      const user = await other.user();
      const canvas = await other.canvas(user);
      const client = await TestWsClient.open(
        `${other.url.replace(/^http/, "ws")}/ws/canvas/${canvas}?token=${user.token}`,
      );
      const stopping = other.app.stop();
      await client.until(() => client.closeCode !== null);
      expect(client.closeCode).toBe(CloseCodes.GOING_AWAY);
      await stopping;
    } finally {
      await other.stop();
    }
  });
});
