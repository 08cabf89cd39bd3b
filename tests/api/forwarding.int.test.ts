/**
 * SEC-4: the client address behind proxies, against the real API server. Without
 * TRUSTED_PROXIES no header counts (even from loopback); with it, the rightmost hop that is not
 * one of ours is the client, over every X-Forwarded-For line. Rate limits (AUTH, H5) and audit
 * rows (REST and the socket upgrade) follow that address, so a forged header never buys a fresh
 * budget nor writes a forged IP. Ends with a fuzz of forged headers.
 */

import { randomUUID } from "node:crypto";
import http from "node:http";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { startTestApi, type TestApi } from "../support/apiHarness";

let direct: TestApi; // TRUSTED_PROXIES unset (the default)
let proxied: TestApi; // TRUSTED_PROXIES=loopback: the API behind a proxy on this machine

beforeAll(async () => {
  [direct, proxied] = await Promise.all([startTestApi(), startTestApi({ TRUSTED_PROXIES: "loopback" })]);
});
afterAll(async () => {
  await Promise.all([direct?.stop(), proxied?.stop()]);
});

let n = 0;
const freshEmail = () => `fwd-${Date.now()}-${n++}@example.com`;
const forged = () => `203.0.113.${1 + (n++ % 250)}`;

function login(api: TestApi, email: string, forwardedFor?: string): Promise<Response> {
  return fetch(`${api.url}/api/v1/auth/login`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(forwardedFor !== undefined ? { "x-forwarded-for": forwardedFor } : {}),
    },
    body: JSON.stringify({ email, password: "not the password" }),
  });
}

/** The address the audit row of a failed login for `email` recorded. */
async function auditedIp(api: TestApi, email: string): Promise<string | null | undefined> {
  const rows = await api.app.deps.db.query<{ ip: string | null }>(
    "SELECT ip FROM system_audit WHERE action = 'auth.login_failed' AND detail->>'email' = $1",
    [email],
  );
  expect(rows).toHaveLength(1);
  return rows[0]?.ip;
}

/** A login with the given raw header lines (each its own `X-Forwarded-For:` line on the wire). */
function loginWithLines(api: TestApi, email: string, lines: string[]): Promise<number> {
  const body = JSON.stringify({ email, password: "not the password" });
  // Raw header lists carry no Host of their own (Node's server refuses a request without one).
  const raw = ["host", new URL(api.url).host, "content-type", "application/json"];
  raw.push("content-length", String(Buffer.byteLength(body)));
  for (const line of lines) raw.push("x-forwarded-for", line);
  return new Promise((resolve, reject) => {
    const req = http.request(`${api.url}/api/v1/auth/login`, { method: "POST", headers: raw }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("SEC-4 client address: X-Forwarded-For", () => {
  it("SEC-4: without TRUSTED_PROXIES a new X-Forwarded-For per request buys no fresh AUTH budget (login or register)", async () => {
    const email = freshEmail();
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await login(direct, email, forged())).status);
    expect(statuses).toEqual(Array(10).fill(401));
    expect((await login(direct, email, forged())).status).toBe(429);
    const register = await fetch(`${direct.url}/api/v1/auth/register`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-forwarded-for": forged() },
      body: JSON.stringify({ email: freshEmail(), password: "correct horse battery", name: "Eve" }),
    });
    expect(register.status).toBe(429);
    // Every audit row names the real peer, not the forged header.
    const ips = await direct.app.deps.db.query<{ ip: string }>(
      "SELECT DISTINCT ip FROM system_audit WHERE action = 'auth.login_failed' AND detail->>'email' = $1",
      [email],
    );
    expect(ips).toEqual([{ ip: "127.0.0.1" }]);
  });

  it("SEC-4: behind a trusted proxy that appends, the rightmost untrusted hop is the client: a forged left part buys nothing", async () => {
    const email = freshEmail();
    const client = "198.51.100.9";
    for (let i = 0; i < 10; i++)
      expect((await login(proxied, email, `${forged()}, ${client}`)).status).toBe(401);
    expect((await login(proxied, email, `${forged()}, ${client}`)).status).toBe(429);
    // Another client behind the same proxy keeps its own budget.
    const other = freshEmail();
    expect((await login(proxied, other, `${client}, 198.51.100.10`)).status).toBe(401);
    expect(await auditedIp(proxied, other)).toBe("198.51.100.10");
  });

  it("SEC-4: two X-Forwarded-For header lines are one list: the rightmost untrusted hop over both", async () => {
    const email = freshEmail();
    expect(await loginWithLines(proxied, email, ["198.51.100.20", "198.51.100.21"])).toBe(401);
    expect(await auditedIp(proxied, email)).toBe("198.51.100.21");
    const forgedFirst = freshEmail();
    expect(await loginWithLines(proxied, forgedFirst, ["1.2.3.4, 5.6.7.8", "198.51.100.22"])).toBe(401);
    expect(await auditedIp(proxied, forgedFirst)).toBe("198.51.100.22");
  });

  it("SEC-4: a refresh without a user's token spends one H5 budget per client, whatever the header", async () => {
    const refresh = (xff: string) =>
      fetch(`${proxied.url}/api/v1/auth/refresh`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-forwarded-for": xff },
        body: JSON.stringify({ refresh_token: `nope-${randomUUID()}` }),
      }).then((r) => r.status);
    expect(await refresh(`${forged()}, 198.51.100.30`)).toBe(401);
    expect(await refresh(`${forged()}, 198.51.100.30`)).toBe(429);
  });

  it("SEC-4: the socket upgrade takes the client address by the same rule (audit rows of ops sent over it)", async () => {
    const owner = await proxied.user();
    const canvas = await proxied.canvas(owner);
    const ws = new WebSocket(
      `${proxied.url.replace("http", "ws")}/ws/canvas/${canvas}?token=${owner.token}`,
      {
        headers: { "x-forwarded-for": "6.6.6.6, 198.51.100.40" },
      },
    );
    await new Promise((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", reject);
    });
    const answer = new Promise<{ result?: { data?: { results: { status: string }[] } } }>((resolve) =>
      ws.on("message", (data) => {
        const frame = JSON.parse(String(data)) as { id?: number };
        if (frame.id === 1) resolve(frame as never);
      }),
    );
    const block = randomUUID();
    ws.send(
      JSON.stringify({
        id: 1,
        method: "mutation",
        params: {
          path: "sync.mutate",
          input: { ops: [{ client_op_id: randomUUID(), action: "create", block_id: block, type: "text" }] },
        },
      }),
    );
    expect((await answer).result?.data?.results[0]?.status).toBe("success");
    ws.close();
    const rows = await proxied.app.deps.db.query<{ ip: string }>(
      "SELECT DISTINCT ip FROM system_audit WHERE canvas_id = $1 AND target_id = $2",
      [canvas, block],
    );
    expect(rows).toEqual([{ ip: "198.51.100.40" }]);
  });
});

describe("SEC-4 fuzz: forged forwarding headers", () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi({
      TRUSTED_PROXIES: "loopback",
      RATE_LIMITS: JSON.stringify({ AUTH: { points: 100_000, duration: 60 } }),
    });
  });
  afterAll(async () => api?.stop());

  // What a client can put in a header line: address-like junk, lists, ports, brackets, spaces.
  const hop = fc.oneof(
    fc.ipV4(),
    fc.ipV6(),
    fc.constantFrom("127.0.0.1", "::1", "::ffff:127.0.0.1", "unknown", "", "garbage", "0x7f.1", "[::1]:80"),
    fc.stringMatching(/^[0-9a-fA-F.:[\] /-]{0,40}$/),
  );
  const line = fc.array(hop, { minLength: 1, maxLength: 4 }).map((hops) => hops.join(", "));

  it("SEC-4: whatever a client forges, the audit row names the hop our proxy appended, and nothing answers 5xx", async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(line, { minLength: 1, maxLength: 3 }), async (forgedLines) => {
        // Our proxy (loopback, trusted) appends the address of the peer it saw: one per run.
        const real = `2001:db8::${(++runs).toString(16)}`;
        const email = freshEmail();
        const status = await loginWithLines(api, email, [...forgedLines, real]);
        expect(status).toBe(401);
        expect(await auditedIp(api, email)).toBe(real);
      }),
      { numRuns: 60 },
    );
  });
});
