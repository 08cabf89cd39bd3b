import { NextRequest } from "next/server";
import { afterEach, describe, expect, it } from "vitest";
import { proxy } from "./proxy";
import { WEB_FRONT_FLAG } from "./server/clientAddress";

const forged = {
  "x-forwarded-for": "203.0.113.7, 198.51.100.8",
  "x-real-ip": "192.0.2.1",
  forwarded: "for=192.0.2.2",
  authorization: "Bearer t",
};

/** What the rewritten request to the API carries (Next.js applies these override headers). */
function forwarded(headers: Record<string, string>) {
  const res = proxy(new NextRequest("http://127.0.0.1:3000/api/v1/canvas?x=1", { headers }));
  const overridden = (res.headers.get("x-middleware-override-headers") ?? "").split(",");
  const value = (name: string) =>
    overridden.includes(name) ? res.headers.get(`x-middleware-request-${name}`) : undefined;
  return {
    rewrite: res.headers.get("x-middleware-rewrite"),
    overridden,
    xff: value("x-forwarded-for"),
    realIp: value("x-real-ip"),
    forwardedHeader: value("forwarded"),
    authorization: value("authorization"),
  };
}

afterEach(() => {
  delete process.env[WEB_FRONT_FLAG];
});

describe("SEC-4 web proxy rewriting", () => {
  it("SEC-4: under the web front, X-Forwarded-For is overwritten with the address the front stamped", () => {
    process.env[WEB_FRONT_FLAG] = "1";
    const out = forwarded({ ...forged, "x-forwarded-for": "198.51.100.77" });
    expect(out.rewrite).toMatch(/\/api\/v1\/canvas\?x=1$/);
    expect(out.xff).toBe("198.51.100.77");
    expect(out.realIp).toBeUndefined();
    expect(out.forwardedHeader).toBeUndefined();
    expect(out.authorization).toBe("Bearer t");
  });

  it("SEC-4: a client's own forwarding headers never reach the API (no front, or not what the front writes)", () => {
    const out = forwarded(forged);
    // An override list is in force (Next.js then drops every header it does not name) ...
    expect(out.authorization).toBe("Bearer t");
    // ... and it names none of the client's forwarding headers.
    expect(out.overridden).not.toContain("x-forwarded-for");
    expect(out.realIp).toBeUndefined();
    expect(out.forwardedHeader).toBeUndefined();
    process.env[WEB_FRONT_FLAG] = "1";
    expect(forwarded(forged).overridden).not.toContain("x-forwarded-for");
  });
});
