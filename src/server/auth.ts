import type { NextAuthOptions } from "next-auth";
import type { JWT } from "next-auth/jwt";
import CredentialsProvider from "next-auth/providers/credentials";
import { ApiAuthError, type ApiSession, callAuth } from "./apiClient";
import { browserAddress } from "./clientAddress";

/** Refresh this long before the access token expires (AUTH-4). */
const REFRESH_MARGIN_MS = 60_000;
/** A rotated refresh token's answer is remembered this long for requests still carrying it. */
const ROTATION_GRACE_MS = 60_000;

function fromApi(s: ApiSession): Pick<JWT, "uid" | "name" | "email" | "api"> {
  return {
    uid: s.user.user_id,
    name: s.user.name,
    email: s.user.email,
    api: {
      accessToken: s.access_token,
      refreshToken: s.refresh_token,
      expiresAt: Date.now() + s.expires_in * 1000,
    },
  };
}

/**
 * The API rotates refresh tokens and revokes the whole family when an old one is reused (AUTH-3).
 * Two requests arriving with one cookie (two tabs, or a page and its prefetches) must not both
 * send it: they share one refresh, and late arrivals within the grace period get its answer.
 */
const refreshes = new Map<string, { at: number; result: Promise<ApiSession | null> }>();

/** The browser's address for the API's per-IP limits, when running inside a request. */
async function requestAddress(): Promise<string | undefined> {
  try {
    const { headers } = await import("next/headers");
    return forwardedFor(Object.fromEntries((await headers()).entries()));
  } catch {
    return undefined; // outside a request (tests)
  }
}

function refreshOnce(api: NonNullable<JWT["api"]>): Promise<ApiSession | null> {
  const refreshToken = api.refreshToken;
  const now = Date.now();
  for (const [k, v] of refreshes) if (now - v.at > ROTATION_GRACE_MS) refreshes.delete(k);
  const known = refreshes.get(refreshToken);
  if (known) return known.result;
  const result = requestAddress().then((forwardedFor) =>
    callAuth(
      "refresh",
      { refresh_token: refreshToken },
      {
        forwardedFor,
        accessToken: api.expiresAt > Date.now() + 5_000 ? api.accessToken : undefined,
      },
    ),
  );
  refreshes.set(refreshToken, { at: now, result });
  // A transient failure (network, 429, 5xx) is not remembered: the next request tries again.
  result.catch((error: unknown) => {
    const final = error instanceof ApiAuthError && (error.status === 401 || error.status === 400);
    if (!final && refreshes.get(refreshToken)?.result === result) refreshes.delete(refreshToken);
  });
  return result;
}

async function refreshed(token: JWT): Promise<JWT> {
  if (!token.api) return token;
  try {
    const s = await refreshOnce(token.api);
    if (!s) return { ...token, error: "RefreshFailed" };
    return { ...token, ...fromApi(s), error: undefined };
  } catch (error) {
    // Revoked, expired or reused: the session is over. Anything else: try again next time.
    if (error instanceof ApiAuthError && (error.status === 401 || error.status === 400))
      return { ...token, error: "RefreshFailed" };
    return token;
  }
}

/** SEC-4: the browser's address as the web front saw it; a header the browser sent is not it. */
function forwardedFor(headers: unknown): string | undefined {
  return browserAddress(headers as Record<string, string | string[] | undefined> | undefined);
}

/**
 * AUTH-4: next-auth with credentials checked by the API (login, or register then sign in). The
 * session is a JWT in an encrypted http-only cookie holding the API's tokens; they are refreshed
 * before the access token expires. See docs/UI.md.
 */
export const authOptions: NextAuthOptions = {
  secret: process.env.NEXTAUTH_SECRET,
  session: { strategy: "jwt", maxAge: 30 * 24 * 60 * 60 },
  pages: { signIn: "/signin" },
  providers: [
    CredentialsProvider({
      name: "Email",
      credentials: {
        email: { label: "Email", type: "email" },
        password: { label: "Password", type: "password" },
        name: { label: "Name", type: "text" },
        mode: { label: "Mode", type: "text" },
      },
      async authorize(credentials, req) {
        const email = credentials?.email?.trim() ?? "";
        const password = credentials?.password ?? "";
        if (!email || !password) throw new Error("Enter your email and password.");
        const register = credentials?.mode === "register";
        if (register && !credentials?.name?.trim()) throw new Error("Enter your name.");
        try {
          const s = await callAuth(
            register ? "register" : "login",
            register ? { email, password, name: credentials?.name?.trim() ?? "" } : { email, password },
            { forwardedFor: forwardedFor(req?.headers) },
          );
          if (!s) throw new Error("The server could not be reached. Try again in a moment.");
          return { id: s.user.user_id, name: s.user.name, email: s.user.email, api: s };
        } catch (error) {
          // next-auth passes the message to the page (signIn → { error }).
          throw new Error(error instanceof Error ? error.message : "Sign-in failed.");
        }
      },
    }),
  ],
  callbacks: {
    async jwt({ token, user }) {
      if (user && "api" in user) return { ...token, ...fromApi((user as { api: ApiSession }).api) };
      if (!token.api || token.error === "RefreshFailed") return token;
      if (Date.now() < token.api.expiresAt - REFRESH_MARGIN_MS) return token;
      return refreshed(token);
    },
    async session({ session, token }) {
      return {
        ...session,
        user: { id: token.uid ?? "", name: token.name ?? "", email: token.email ?? "" },
        accessToken: token.error === "RefreshFailed" ? undefined : token.api?.accessToken,
        accessTokenExpiresAt: token.api?.expiresAt,
        error: token.error,
      };
    },
  },
  events: {
    // AUTH-3: signing out revokes the refresh token (and its family) at the API.
    async signOut({ token }) {
      const refreshToken = (token as JWT | null)?.api?.refreshToken;
      if (refreshToken)
        await callAuth(
          "logout",
          { refresh_token: refreshToken },
          { forwardedFor: await requestAddress() },
        ).catch(() => null);
    },
  },
};
