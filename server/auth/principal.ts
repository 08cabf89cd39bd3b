/** Who is calling, as proven by a verified access token (AUTH-2). */
export interface Principal {
  userId: string;
  /** OAuth-style scopes: `canvas:{id|*}:{read|write}`. */
  scopes: string[];
  /** The token's `jti`/expiry, for logging and socket expiry. */
  expiresAt: number;
}

/** Verifies a bearer access token; rejects (throws) for anything not valid. */
export interface TokenVerifier {
  verify(token: string): Promise<Principal>;
}
