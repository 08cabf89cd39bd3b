/**
 * SEC-4 in the web app: the browser's address, as the web front (`scripts/webServer.ts`) wrote
 * it into `X-Forwarded-For` from the socket's peer before Next.js saw the request. Next.js alone
 * cannot tell a client's header from its peer (it only fills the header in when absent), so
 * without the front no address is believed at all: the API then sees the web server's own
 * address, one shared budget, never a forged one.
 */

/** Set by the web front in its own process; `proxy.ts` and sign-in run in that process. */
export const WEB_FRONT_FLAG = "POTENTIA_WEB_FRONT";

type HeaderBag = Headers | Record<string, string | string[] | undefined> | undefined;

function headerOf(headers: HeaderBag, name: string): string | undefined {
  if (!headers) return undefined;
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  const v = headers[name];
  return Array.isArray(v) ? v.join(", ") : v;
}

/** The browser's address (one hop, written by the web front), or undefined when not known. */
export function browserAddress(headers: HeaderBag): string | undefined {
  if (process.env[WEB_FRONT_FLAG] !== "1") return undefined;
  const value = headerOf(headers, "x-forwarded-for")?.trim();
  // The front writes exactly one address; anything else did not come from it.
  return value && !value.includes(",") ? value : undefined;
}

/**
 * The headers a request to the API carries: the client's own forwarding headers dropped, and
 * `X-Forwarded-For` overwritten with the browser's address when the front knows it.
 */
export function apiRequestHeaders(incoming: Headers): Headers {
  const headers = new Headers(incoming);
  const client = browserAddress(incoming);
  for (const name of ["x-forwarded-for", "x-real-ip", "forwarded"]) headers.delete(name);
  if (client) headers.set("x-forwarded-for", client);
  return headers;
}
