import type { IncomingMessage, ServerResponse } from "node:http";
import { nodeHTTPRequestHandler } from "@trpc/server/adapters/node-http";
import { type TRPC_ERROR_CODE_KEY, TRPC_ERROR_CODES_BY_KEY } from "@trpc/server/rpc";
import type { AppDeps } from "../deps";
import type { AppRouter } from "../routers";
import { createContext } from "../trpc/context";
import { readBodyText } from "./problem";
import { MAX_JSON_DEPTH, nestsDeeperThan } from "./safeInput";

export const TRPC_PREFIX = "/trpc";
const MAX_BODY_BYTES = 256 * 1024;

/**
 * A refusal before tRPC runs, shaped as tRPC's own errors (the web app's client reads them): one
 * error, or one per call of a batch (`?batch=1`, calls named by the comma-separated path).
 */
function sendTrpcError(
  res: ServerResponse,
  status: number,
  code: TRPC_ERROR_CODE_KEY,
  problem: string,
  message: string,
  path: string,
  batch: boolean,
): void {
  const error = (p: string) => ({
    error: {
      message,
      code: TRPC_ERROR_CODES_BY_KEY[code],
      data: { code, httpStatus: status, path: p, problem: { code: problem } },
    },
  });
  const body = JSON.stringify(batch ? path.split(",").map(error) : error(path));
  res.statusCode = status;
  res.setHeader("content-type", "application/json");
  res.setHeader("content-length", Buffer.byteLength(body));
  res.end(body);
}

/**
 * tRPC over HTTP at `/trpc/*` for the web app's `@trpc/react-query` client: the same router,
 * context (bearer token), rate limits and access checks as the REST routes generated from it.
 * Subscriptions stay on the WebSocket (`/ws/canvas/{id}`). Bodies are read here first, under the
 * same rules as REST's (256 KiB, nesting at most MAX_JSON_DEPTH levels: API-3), then handed to
 * the adapter as text.
 */
export function createTrpcHttpHandler(deps: AppDeps, router: AppRouter) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const url = req.url ?? "/";
    const [pathname, search = ""] = url.split("?") as [string, string?];
    if (pathname !== TRPC_PREFIX && !pathname.startsWith(`${TRPC_PREFIX}/`)) return false;
    const path = pathname.slice(TRPC_PREFIX.length + 1);
    if (req.method === "POST") {
      const batch = new URLSearchParams(search).get("batch") === "1";
      const text = await readBodyText(req, MAX_BODY_BYTES);
      if (text === undefined) {
        const message = `request bodies are limited to ${MAX_BODY_BYTES} bytes`;
        sendTrpcError(res, 413, "PAYLOAD_TOO_LARGE", "payload_too_large", message, path, batch);
        return true;
      }
      if (nestsDeeperThan(text)) {
        const message = `JSON bodies may nest at most ${MAX_JSON_DEPTH} levels`;
        sendTrpcError(res, 400, "BAD_REQUEST", "invalid_input", message, path, batch);
        return true;
      }
      // The adapter takes a pre-read body as it is (`req.body`), instead of reading the stream.
      (req as IncomingMessage & { body?: unknown }).body = text.length > 0 ? text : undefined;
    }
    await nodeHTTPRequestHandler({
      router,
      req,
      res,
      path,
      maxBodySize: MAX_BODY_BYTES,
      allowMethodOverride: false,
      createContext: ({ req: r, res: s }) => createContext(deps, r as IncomingMessage, s as ServerResponse),
      onError: ({ error, path: p }) => {
        if (error.code === "INTERNAL_SERVER_ERROR")
          deps.log.error({ err: error.cause ?? error, path: p }, "procedure failed");
      },
    });
    return true;
  };
}
