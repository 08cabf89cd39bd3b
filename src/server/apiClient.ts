/**
 * Server-side calls from the Next.js process to the API server (sign-in, token refresh). The
 * browser never talks to these auth routes itself: refresh tokens stay in the session cookie.
 */
export const API_URL = (process.env.API_URL ?? `http://127.0.0.1:${process.env.API_PORT ?? 4000}`).replace(
  /\/$/,
  "",
);

export interface ApiSession {
  user: { user_id: string; email: string; name: string };
  access_token: string;
  refresh_token: string;
  token_type: "Bearer";
  expires_in: number;
}

/** A refusal worth showing the user as is (wrong password, email taken, rate limited). */
export class ApiAuthError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = "ApiAuthError";
  }
}

/** Plain sentences for the API's answers (problem+json, API-3). */
function messageFor(status: number, problem: { detail?: string; title?: string; retry_after?: number }) {
  if (status === 401) return "That email and password do not match an account.";
  if (status === 409) return "An account with this email already exists. Sign in instead.";
  if (status === 429) return "Too many attempts. Wait a minute and try again.";
  if (status === 400 || status === 422) return problem.detail ?? "Please check the form and try again.";
  return "The server could not be reached. Try again in a moment.";
}

export async function callAuth(
  route: "login" | "register" | "refresh" | "logout",
  body: Record<string, string>,
  opts: { forwardedFor?: string; accessToken?: string } = {},
): Promise<ApiSession | null> {
  const { forwardedFor, accessToken } = opts;
  let res: Response;
  try {
    res = await fetch(`${API_URL}/api/v1/auth/${route}`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        // The API rate-limits sign-in per client address (SEC-4): it believes this header only from
        // a proxy in its TRUSTED_PROXIES, which the launchers set to this web server's own hop.
        ...(forwardedFor ? { "x-forwarded-for": forwardedFor } : {}),
        // A still-valid access token makes the refresh count against the user's budget (API-2)
        // rather than the web server's address, which every user shares.
        ...(accessToken ? { authorization: `Bearer ${accessToken}` } : {}),
      },
      body: JSON.stringify(body),
      cache: "no-store",
    });
  } catch {
    throw new ApiAuthError(messageFor(503, {}), 503);
  }
  if (res.status === 204) return null;
  if (!res.ok) {
    const problem = (await res.json().catch(() => ({}))) as { detail?: string; title?: string };
    throw new ApiAuthError(messageFor(res.status, problem), res.status);
  }
  return (await res.json()) as ApiSession;
}
