import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi } from "../../tests/support/apiHarness";
import { TOKEN_AUDIENCE, TOKEN_ISSUER } from "./tokens";

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => api?.stop());

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");

describe("access tokens over HTTP", () => {
  it("AUTH-2: a valid access token identifies the caller with its scopes", async () => {
    const user = await api.user();
    const res = await user.fetch("/api/v1/whoami");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ user_id: user.userId, scopes: ["canvas:*:read", "canvas:*:write"] });
    const [header] = user.token.split(".");
    expect(JSON.parse(Buffer.from(header!, "base64url").toString())).toMatchObject({
      alg: "ES256",
      kid: api.app.deps.keys.kid,
    });
  });

  it("AUTH-2: alg none, wrong algorithm, wrong iss/aud, expired and tampered tokens are refused", async () => {
    const user = await api.user();
    const [h, p, s] = user.token.split(".");
    const payload = JSON.parse(Buffer.from(p!, "base64url").toString()) as Record<string, unknown>;
    const hmac = new TextEncoder().encode("x".repeat(32));
    const forged = [
      `${b64({ alg: "none", typ: "JWT" })}.${p}.`,
      `${h}.${b64({ ...payload, sub: "00000000-0000-4000-8000-000000000000" })}.${s}`,
      await new SignJWT(payload).setProtectedHeader({ alg: "HS256", kid: api.app.deps.keys.kid }).sign(hmac),
      await api.app.deps.tokens.issue(user.userId, ["canvas:*:read"], -10),
    ];
    for (const token of forged) {
      const res = await api.anonymous("/api/v1/whoami", { headers: { authorization: `Bearer ${token}` } });
      expect(await res.json()).toMatchObject({ user_id: null });
    }
    // A token for another issuer/audience does not verify either.
    await expect(
      api.app.deps.tokens.verify(
        await new SignJWT({ scope: "" })
          .setProtectedHeader({ alg: "ES256", kid: api.app.deps.keys.kid })
          .setIssuer("someone-else")
          .setAudience(TOKEN_AUDIENCE)
          .setSubject(user.userId)
          .setIssuedAt()
          .setExpirationTime("5m")
          .sign(api.app.deps.keys.privateKey),
      ),
    ).rejects.toThrow();
    await expect(
      api.app.deps.tokens.verify(
        await new SignJWT({ scope: "" })
          .setProtectedHeader({ alg: "ES256", kid: api.app.deps.keys.kid })
          .setIssuer(TOKEN_ISSUER)
          .setAudience("other-api")
          .setSubject(user.userId)
          .setIssuedAt()
          .setExpirationTime("5m")
          .sign(api.app.deps.keys.privateKey),
      ),
    ).rejects.toThrow();
  });
});
