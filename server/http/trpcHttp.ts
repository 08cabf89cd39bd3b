import type { IncomingMessage, ServerResponse } from "node:http";
import { nodeHTTPRequestHandler } from "@trpc/server/adapters/node-http";
import type { AppDeps } from "../app";
import type { AppRouter } from "../routers";
import { createContext } from "../trpc/context";

export const TRPC_PREFIX = "/trpc";
const MAX_BODY_BYTES = 256 * 1024;

/**
 * tRPC over HTTP at `/trpc/*` for the web app's `@trpc/react-query` client: the same router,
 * context (bearer token), rate limits and access checks as the REST routes generated from it.
 * Subscriptions stay on the WebSocket (`/ws/canvas/{id}`).
 */
export function createTrpcHttpHandler(deps: AppDeps, router: AppRouter) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const url = req.url ?? "/";
    const pathname = url.split("?")[0]!;
    if (pathname !== TRPC_PREFIX && !pathname.startsWith(`${TRPC_PREFIX}/`)) return false;
    await nodeHTTPRequestHandler({
      router,
      req,
      res,
      path: pathname.slice(TRPC_PREFIX.length + 1),
      maxBodySize: MAX_BODY_BYTES,
      allowMethodOverride: false,
      createContext: ({ req: r, res: s }) => createContext(deps, r as IncomingMessage, s as ServerResponse),
      onError: ({ error, path }) => {
        if (error.code === "INTERNAL_SERVER_ERROR")
          deps.log.error({ err: error.cause ?? error, path }, "procedure failed");
      },
    });
    return true;
  };
}
