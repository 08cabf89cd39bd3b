import { randomUUID } from "node:crypto";
import { createLocalJWKSet, jwtVerify, SignJWT } from "jose";
import { JWT_ALG, type SigningKeys } from "./keys";
import type { Principal, TokenVerifier } from "./principal";

export const ACCESS_TOKEN_TTL_S = 15 * 60;
export const TOKEN_ISSUER = "potentia";
export const TOKEN_AUDIENCE = "potentia-api";

/** Scopes a user gets at sign-in: every canvas they are a member of, limited by role (AUTH-2). */
export const DEFAULT_SCOPES = ["canvas:*:read", "canvas:*:write"];

/**
 * AUTH-2: 15-minute ES256 access tokens with `kid`, `iss`, `aud`, `sub` and a space-separated
 * `scope`. Verification accepts only ES256 from the published key set, so `alg: none`, other
 * algorithms, foreign issuers/audiences, expired and tampered tokens are refused.
 */
export class AccessTokens implements TokenVerifier {
  private readonly keySet: ReturnType<typeof createLocalJWKSet>;

  constructor(
    private readonly keys: SigningKeys,
    private readonly now: () => number = Date.now,
  ) {
    this.keySet = createLocalJWKSet(keys.jwks);
  }

  async issue(
    userId: string,
    scopes: readonly string[] = DEFAULT_SCOPES,
    ttlS = ACCESS_TOKEN_TTL_S,
  ): Promise<string> {
    const iat = Math.floor(this.now() / 1000);
    return new SignJWT({ scope: scopes.join(" ") })
      .setProtectedHeader({ alg: JWT_ALG, kid: this.keys.kid, typ: "JWT" })
      .setIssuer(TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setSubject(userId)
      .setIssuedAt(iat)
      .setExpirationTime(iat + ttlS)
      .setJti(randomUUID())
      .sign(this.keys.privateKey);
  }

  async verify(token: string): Promise<Principal> {
    const { payload } = await jwtVerify(token, this.keySet, {
      issuer: TOKEN_ISSUER,
      audience: TOKEN_AUDIENCE,
      algorithms: [JWT_ALG],
      currentDate: new Date(this.now()),
      requiredClaims: ["sub", "exp", "iat"],
    });
    const scope = typeof payload.scope === "string" ? payload.scope : "";
    return {
      userId: payload.sub!,
      scopes: scope.split(" ").filter(Boolean),
      expiresAt: payload.exp! * 1000,
    };
  }
}
