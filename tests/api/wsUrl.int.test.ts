/**
 * OPS-4 (issue 9): A1's `realtime.ws_url` comes from configuration only. A request with a forged
 * `Host` / `X-Forwarded-Proto` (a cache poisoner, or a page fetched through some proxy) must not
 * steer browsers — and the access token they put on the socket URL — to another host.
 */
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi } from "../support/apiHarness";

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => api?.stop());

/** GET A1 with the given Host and X-Forwarded-Proto headers. */
function a1(target: TestApi, token: string, canvas: string, host: string): Promise<{ ws_url: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${target.url}/api/v1/canvas/${canvas}`,
      { headers: { host, "x-forwarded-proto": "https", authorization: `Bearer ${token}` } },
      (res) => {
        let body = "";
        res.on("data", (c) => {
          body += c;
        });
        res.on("end", () => {
          if (res.statusCode !== 200) return reject(new Error(`A1 answered ${res.statusCode}: ${body}`));
          resolve((JSON.parse(body) as { realtime: { ws_url: string } }).realtime);
        });
      },
    );
    req.on("error", reject);
    req.end();
  });
}

describe("OPS-4 ws_url is never built from the request", () => {
  it("OPS-4: a forged Host / X-Forwarded-Proto does not change ws_url (configured HOST and the listening port)", async () => {
    const owner = await api.user();
    const canvas = await api.canvas(owner);
    const realtime = await a1(api, owner.token, canvas, "evil.example:8443");
    expect(realtime.ws_url).toBe(`ws://${new URL(api.url).host}/ws/canvas/${canvas}`);
  });
});
