import type { IncomingMessage, ServerResponse } from "node:http";
import type { JSONWebKeySet, JWK } from "jose";
import { sendMethodNotAllowed } from "./problem";

export const JWKS_PATH = "/.well-known/jwks.json";

/** JWK members that hold private key material (RFC 7518 §6): never published. */
const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] as const;

/** The public half of each key only, whatever the key set was given. */
export function publicJwks(jwks: JSONWebKeySet): JSONWebKeySet {
  return {
    keys: jwks.keys.map((key) => {
      const pub: JWK = { ...key };
      for (const member of PRIVATE_MEMBERS) delete (pub as Record<string, unknown>)[member];
      return pub;
    }),
  };
}

/**
 * AUTH-2: `GET /.well-known/jwks.json`, the public keys that verify access tokens. Cached for five
 * minutes: a new signing key is published (JWT_PUBLIC_KEYS) before it signs, and verifiers such as
 * jose's remote key set refetch on an unknown `kid` anyway.
 */
export function createJwksHandler(jwks: JSONWebKeySet) {
  const body = JSON.stringify(publicJwks(jwks));
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    if ((req.url ?? "/").split("?")[0] !== JWKS_PATH) return false;
    if (req.method !== "GET" && req.method !== "HEAD") return sendMethodNotAllowed(req, res, ["GET", "HEAD"]);
    res.writeHead(200, {
      "content-type": "application/json",
      "cache-control": "public, max-age=300",
      "content-length": Buffer.byteLength(body),
    });
    res.end(req.method === "HEAD" ? undefined : body);
    return true;
  };
}
