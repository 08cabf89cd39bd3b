import { exportJWK, generateKeyPair } from "jose";
import { describe, expect, it } from "vitest";
import { publicJwks } from "./jwks";

describe("JWKS", () => {
  it("AUTH-2: the published key set never carries private key material", async () => {
    const { privateKey } = await generateKeyPair("ES256", { extractable: true });
    const priv = { ...(await exportJWK(privateKey)), kid: "k1", alg: "ES256", use: "sig" };
    expect(priv).toHaveProperty("d");
    const out = publicJwks({ keys: [priv, { kty: "oct", k: "c2VjcmV0", kid: "k2" }] });
    expect(out.keys[0]).toEqual({
      kty: "EC",
      crv: "P-256",
      x: priv.x,
      y: priv.y,
      kid: "k1",
      alg: "ES256",
      use: "sig",
    });
    for (const key of out.keys) {
      for (const member of ["d", "p", "q", "dp", "dq", "qi", "k"]) expect(key).not.toHaveProperty(member);
    }
    expect(priv).toHaveProperty("d"); // the input is not mutated
  });
});
