/**
 * SEC-4 through the web app: the real Next.js app (its `src/proxy.ts` and next-auth route, in
 * development mode, as `npm run dev` runs it: `.next/dev`, so not beside a running `npm run dev`
 * of the same checkout, whose lock it would meet) behind the web front
 * (`scripts/webServer.ts`), in front of a real API server that trusts the web app's hop
 * (TRUSTED_PROXIES=loopback, as the launchers set it). Whatever forwarding headers a browser
 * sends, the API sees the browser's own address: its AUTH budget is not refreshed by a header,
 * and audit rows name it. Each test connects from its own loopback address (127.0.0.N) so that
 * each has a budget of its own.
 */
import http from "node:http";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWebServer, type WebServer } from "../../scripts/webServer";
import { startTestApi, type TestApi } from "../support/apiHarness";

let api: TestApi;
let web: WebServer;

async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", () => resolve()));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

beforeAll(async () => {
  api = await startTestApi({ TRUSTED_PROXIES: "loopback" });
  process.env.API_URL = api.url;
  process.env.NEXTAUTH_SECRET = "forwarding-test-secret-forwarding-test-secret";
  const port = await freePort();
  process.env.NEXTAUTH_URL = `http://127.0.0.1:${port}`;
  web = await startWebServer({ dev: true, port, hostname: "127.0.0.1", trusted: [] });
}, 180_000);
afterAll(async () => {
  await web?.close();
  await api?.stop();
});

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A request to the web app from loopback address `from`, with raw header lines. */
function webRequest(
  from: string,
  pathname: string,
  opts: { method?: string; lines?: [string, string][]; body?: string; type?: string } = {},
): Promise<Answer> {
  const raw = ["host", new URL(web.url).host];
  if (opts.body !== undefined) {
    raw.push("content-type", opts.type ?? "application/json");
    raw.push("content-length", String(Buffer.byteLength(opts.body)));
  }
  for (const [name, value] of opts.lines ?? []) raw.push(name, value);
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${web.url}${pathname}`,
      { method: opts.method ?? "GET", headers: raw, localAddress: from },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk) => {
          body += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on("error", reject);
    req.end(opts.body);
  });
}

let n = 0;
const freshEmail = () => `web-fwd-${Date.now()}-${n++}@example.com`;
const forgedLines = (): [string, string][] => [
  ["x-forwarded-for", `203.0.113.${1 + (n % 250)}`],
  ["x-forwarded-for", `198.51.100.${1 + (n++ % 250)}`],
  ["x-real-ip", "192.0.2.1"],
  ["forwarded", "for=192.0.2.2"],
];

async function auditIps(action: string, email: string): Promise<string[]> {
  const rows = await api.app.deps.db.query<{ ip: string }>(
    "SELECT ip FROM system_audit WHERE action = $1 AND detail->>'email' = $2",
    [action, email],
  );
  return rows.map((r) => r.ip);
}

describe("SEC-4 through the web app's proxy", () => {
  it("SEC-4: through the web proxy, forged X-Forwarded-For lines buy no fresh AUTH budget; the API sees the browser's address", async () => {
    const from = "127.0.0.2";
    const email = freshEmail();
    const login = () =>
      webRequest(from, "/api/v1/auth/login", {
        method: "POST",
        lines: forgedLines(),
        body: JSON.stringify({ email, password: "not the password" }),
      });
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await login()).status);
    expect(statuses).toEqual(Array(10).fill(401));
    expect((await login()).status).toBe(429);
    expect(await auditIps("auth.login_failed", email)).toEqual(Array(10).fill(from));
  });

  it("SEC-4: sign-in through next-auth passes the browser's address to the API, not a header it sent", async () => {
    const from = "127.0.0.3";
    const csrf = await webRequest(from, "/api/auth/csrf");
    expect(csrf.status).toBe(200);
    const { csrfToken } = JSON.parse(csrf.body) as { csrfToken: string };
    const cookie = (csrf.headers["set-cookie"] ?? []).map((c) => c.split(";")[0]).join("; ");
    const email = freshEmail();
    const signIn = () =>
      webRequest(from, "/api/auth/callback/credentials", {
        method: "POST",
        type: "application/x-www-form-urlencoded",
        lines: [...forgedLines(), ["cookie", cookie]],
        body: new URLSearchParams({
          csrfToken,
          email,
          password: "not the password",
          json: "true",
        }).toString(),
      });
    const errors: string[] = [];
    for (let i = 0; i < 11; i++) {
      const answer = await signIn();
      const { url } = JSON.parse(answer.body) as { url: string };
      errors.push(new URL(url).searchParams.get("error") ?? "");
    }
    expect(errors.slice(0, 10)).toEqual(Array(10).fill("That email and password do not match an account."));
    expect(errors[10]).toBe("Too many attempts. Wait a minute and try again.");
    expect(await auditIps("auth.login_failed", email)).toEqual(Array(10).fill(from));
  });

  it("SEC-4: tRPC over HTTP through the web proxy carries the browser's address too", async () => {
    const from = "127.0.0.4";
    const email = freshEmail();
    const answer = await webRequest(from, "/trpc/auth.login", {
      method: "POST",
      lines: forgedLines(),
      body: JSON.stringify({ email, password: "not the password" }),
    });
    expect(answer.status).toBe(401);
    expect(await auditIps("auth.login_failed", email)).toEqual([from]);
  });
});
