import { getSession } from "next-auth/react";

/** Used before expiry by at least this much; otherwise a fresh one is fetched. */
const MIN_LIFETIME_MS = 30_000;

let cached: { token: string; expiresAt: number } | null = null;
let inflight: Promise<string> | null = null;

/** Seeds the cache from a session the page already has (no extra request). */
export function rememberAccessToken(token: string | undefined, expiresAt: number | undefined): void {
  if (token && expiresAt) cached = { token, expiresAt };
}

export function forgetAccessToken(): void {
  cached = null;
}

/**
 * AUTH-4: a fresh API access token for the browser's own calls (tRPC, REST, WebSocket). Reading the
 * session runs next-auth's `jwt` callback on the server, which refreshes the token pair when it
 * is about to expire; concurrent callers share one request.
 */
export function getAccessToken(): Promise<string> {
  if (cached && cached.expiresAt - Date.now() > MIN_LIFETIME_MS) return Promise.resolve(cached.token);
  inflight ??= getSession()
    .then((session) => {
      if (!session?.accessToken) throw new Error("not signed in");
      rememberAccessToken(session.accessToken, session.accessTokenExpiresAt);
      return session.accessToken;
    })
    .finally(() => {
      inflight = null;
    });
  return inflight;
}
