import { type NextRequest, NextResponse } from "next/server";
import { apiRequestHeaders } from "./server/clientAddress";

/**
 * The browser reaches the API same-origin (docs/UI.md): `/api/v1/*` (REST) and `/trpc/*` (tRPC
 * over HTTP) are proxied to API_URL, read at run time (a `next.config.js` rewrite would freeze
 * the address at build time). SEC-4: the request reaches the API with `X-Forwarded-For`
 * overwritten by the browser's address as the web front saw it, never a header the client sent.
 */
export function proxy(req: NextRequest) {
  const api = process.env.API_URL ?? `http://127.0.0.1:${process.env.API_PORT ?? 4000}`;
  return NextResponse.rewrite(new URL(`${req.nextUrl.pathname}${req.nextUrl.search}`, api), {
    request: { headers: apiRequestHeaders(req.headers) },
  });
}

export const config = { matcher: ["/api/v1/:path*", "/trpc/:path*"] };
