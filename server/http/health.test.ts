import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { handleHealth, type ReadinessProbe } from "./health";

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

/** Serves handleHealth with a probe whose answers the test sets (failure injection, not a mock of a component). */
async function serve(probe: Partial<ReadinessProbe>): Promise<string> {
  const full: ReadinessProbe = {
    draining: () => false,
    db: async () => true,
    redis: () => null,
    vector: async () => true,
    ...probe,
  };
  server = createServer((req, res) => {
    void handleHealth(req, res, full).then((handled) => {
      if (!handled) res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
}

describe("/health and /ready", () => {
  it("M1: /health answers ok without checking anything", async () => {
    const url = await serve({ db: async () => false });
    const res = await fetch(`${url}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
  });

  it("DB-7: without pgvector the service is still ready and reports vector unavailable", async () => {
    const url = await serve({ vector: async () => false });
    const res = await fetch(`${url}/ready`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      status: "ok",
      checks: { db: "ok", redis: "in-process", vector: "unavailable" },
    });
  });

  it("M2: a database that does not answer makes /ready 503", async () => {
    const url = await serve({ db: async () => false });
    const res = await fetch(`${url}/ready`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ status: "unavailable", checks: { db: "down" } });
  });

  it("OPS-6: Redis down leaves the API ready (degraded): mutations still work without it", async () => {
    const url = await serve({ redis: () => Promise.resolve(false) });
    const res = await fetch(`${url}/ready`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "degraded", checks: { redis: "down" } });
  });

  it("OPS-5: while draining, /ready answers 503", async () => {
    const url = await serve({ draining: () => true });
    const res = await fetch(`${url}/ready`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ status: "draining" });
  });
});
