"use client";

import { httpBatchLink } from "@trpc/client";
import { createTRPCReact } from "@trpc/react-query";
import type { AppRouter } from "../../server/routers";
import { getAccessToken } from "./accessToken";

/** The API's tRPC router over HTTP (`/trpc`, rewritten to the API server; docs/UI.md). */
export const trpc = createTRPCReact<AppRouter>();

export function createTrpcClient() {
  return trpc.createClient({
    links: [
      httpBatchLink({
        url: "/trpc",
        headers: async () => ({ authorization: `Bearer ${await getAccessToken()}` }),
      }),
    ],
  });
}

/** `() => Promise<string>`: a fresh API access token (stable identity, safe in effects). */
export function useAccessToken(): () => Promise<string> {
  return getAccessToken;
}

/** `fetch` against the API (same origin) as the signed-in user. */
export async function apiFetch(pathname: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("authorization", `Bearer ${await getAccessToken()}`);
  if (init.body && !headers.has("content-type")) headers.set("content-type", "application/json");
  return fetch(pathname, { ...init, headers });
}
