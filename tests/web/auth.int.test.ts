/**
 * AUTH-4: the web app's next-auth configuration against the real API server — credentials are
 * checked by the API, the session JWT carries its tokens, they are refreshed before expiry, one
 * rotated refresh token is never sent twice (the API would revoke the family), sign-out revokes.
 */
import type { NextAuthOptions, Session, User } from "next-auth";
import type { JWT } from "next-auth/jwt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi } from "../support/apiHarness";

let api: TestApi;
let authOptions: NextAuthOptions;

beforeAll(async () => {
  // As under the launchers (SEC-4): the web app's hop is trusted, its X-Forwarded-For believed.
  api = await startTestApi({ TRUSTED_PROXIES: "loopback" });
  process.env.API_URL = api.url;
  ({ authOptions } = await import("../../src/server/auth"));
});
afterAll(async () => api?.stop());

type Authorize = (
  credentials: Record<string, string>,
  req: { headers: Record<string, string> },
) => Promise<User>;
const authorize = (creds: Record<string, string>) =>
  (authOptions.providers[0] as unknown as { options: { authorize: Authorize } }).options.authorize(creds, {
    headers: { "x-forwarded-for": "203.0.113.7" },
  });
const jwt = (token: JWT, user?: User) =>
  authOptions.callbacks!.jwt!({
    token,
    user: user as User,
    account: null,
    trigger: user ? "signIn" : "update",
  } as never) as Promise<JWT>;

let n = 0;
async function signUp(): Promise<JWT> {
  const email = `web-${Date.now()}-${n++}@example.com`;
  const user = await authorize({ mode: "register", email, password: "correct horse", name: "Web User" });
  return jwt({ email, name: "Web User" }, user);
}
const canvasesWith = (token: string) =>
  fetch(`${api.url}/api/v1/canvas`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status);

describe("AUTH-4 next-auth credentials against the API", () => {
  it("sign-up and sign-in go through the API; the session exposes the access token, not the refresh token", async () => {
    const token = await signUp();
    expect(token.api?.accessToken).toBeTruthy();
    expect(await canvasesWith(token.api!.accessToken)).toBe(200);
    const again = await authorize({ email: token.email!, password: "correct horse" });
    expect(again.email).toBe(token.email);
    const session = await authOptions.callbacks!.session!({ session: { expires: "" }, token } as never);
    expect(session).toMatchObject({ accessToken: token.api!.accessToken, user: { name: "Web User" } });
    expect(JSON.stringify(session)).not.toContain(token.api!.refreshToken);
  });

  it("wrong passwords and taken emails give plain messages", async () => {
    const token = await signUp();
    await expect(authorize({ email: token.email!, password: "wrong password" })).rejects.toThrow(
      "That email and password do not match an account.",
    );
    await expect(
      authorize({ mode: "register", email: token.email!, password: "another password", name: "X" }),
    ).rejects.toThrow("An account with this email already exists.");
  });

  it("refreshes before expiry, once per rotated token even when requests race", async () => {
    const token = await signUp();
    // A fresh token is left alone.
    expect((await jwt(token)).api).toEqual(token.api);
    const expiring = { ...token, api: { ...token.api!, expiresAt: Date.now() + 10_000 } };
    // Two requests carrying the same cookie at once (two tabs): one refresh, one answer.
    const [a, b] = await Promise.all([jwt(expiring), jwt(expiring)]);
    expect(a.api!.refreshToken).not.toBe(token.api!.refreshToken);
    expect(b.api).toEqual(a.api);
    expect(a.api!.expiresAt).toBeGreaterThan(Date.now() + 5 * 60_000);
    expect(await canvasesWith(a.api!.accessToken)).toBe(200);
    // The family is intact: the new refresh token works (a reused one would have revoked it).
    const res = await fetch(`${api.url}/api/v1/auth/refresh`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-forwarded-for": "198.51.100.23" },
      body: JSON.stringify({ refresh_token: a.api!.refreshToken }),
    });
    expect(res.status).toBe(200);
  });

  it("refreshes count against each user's budget (H5 1 per 30 s), not the web server's address", async () => {
    const [one, two] = [await signUp(), await signUp()];
    const soon = (t: JWT) => ({ ...t, api: { ...t.api!, expiresAt: Date.now() + 10_000 } });
    const a = await jwt(soon(one));
    const b = await jwt(soon(two));
    expect(a.api!.refreshToken).not.toBe(one.api!.refreshToken);
    expect(b.api!.refreshToken).not.toBe(two.api!.refreshToken);
  });

  it("sign-out revokes the refresh token; a revoked session ends instead of retrying", async () => {
    const token = await signUp();
    await authOptions.events!.signOut!({ token, session: null } as never);
    const after = await jwt({ ...token, api: { ...token.api!, expiresAt: 0 } });
    expect(after.error).toBe("RefreshFailed");
    const session = (await authOptions.callbacks!.session!({
      session: { expires: "" },
      token: after,
    } as never)) as Session;
    expect(session.accessToken).toBeUndefined();
  });
});
