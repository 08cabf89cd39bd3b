/**
 * RT-2: the socket's `sync.mutate`, `sync.presence` and `sync.leave` run the very procedures of
 * H2, H3 and H6 (server/routers/sync.ts) through a tRPC caller built once per connection from
 * the socket's context, so auth, input validation and error mapping exist once. Errors are shaped
 * by the router's own error formatter, as the HTTP adapters shape them (same `data.code`,
 * `data.httpStatus`, `data.problem`; an unavailable database is `SERVICE_UNAVAILABLE` on both).
 */
import { getErrorShape, getTRPCErrorFromUnknown, TRPCError } from "@trpc/server";
import type { AppDeps } from "../deps";
import type { ConnectionInfo, SocketCalls, SocketMutation } from "../realtime/connection";
import type { AppRouter } from "../routers";
import type { Context } from "./context";
import { createCallerFactory } from "./init";

/**
 * REST takes `canvas_id` from the path; on the socket it is the socket's canvas. Input must be an
 * object (or absent); one that names a canvas itself is refused rather than quietly overridden.
 */
function withCanvas(input: unknown, canvasId: string): Record<string, unknown> {
  if (input === undefined || input === null) return { canvas_id: canvasId };
  if (typeof input !== "object" || Array.isArray(input))
    throw new TRPCError({ code: "BAD_REQUEST", message: "the input must be a JSON object" });
  if (Object.hasOwn(input, "canvas_id"))
    throw new TRPCError({ code: "BAD_REQUEST", message: "canvas_id is the socket's canvas; do not send it" });
  return { ...input, canvas_id: canvasId };
}

/** Builds, per connection, the caller its mutations go through. */
export function createSocketCalls(deps: AppDeps, router: AppRouter): (info: ConnectionInfo) => SocketCalls {
  const callerOf = createCallerFactory(router);
  return (info) => {
    const ctx: Context = {
      deps,
      req: info.req,
      principal: info.principal,
      ip: info.ip,
      userAgent: info.userAgent,
      transport: "socket",
      canvasAccess: info.access,
    };
    const caller = callerOf(ctx);
    // Inputs are parsed by each procedure's own schema: the casts only hand them over.
    const procedures: Record<SocketMutation, (input: Record<string, unknown>) => Promise<unknown>> = {
      "sync.mutate": (input) => caller.sync.mutate(input as never),
      "sync.presence": (input) => caller.sync.presence(input as never),
      "sync.leave": (input) => caller.sync.leave(input as never),
    };
    return {
      async call(path, input) {
        try {
          return { ok: true, data: await procedures[path](withCanvas(input, info.canvasId)) };
        } catch (cause) {
          const error = getTRPCErrorFromUnknown(cause);
          if (error.code === "INTERNAL_SERVER_ERROR")
            deps.log.error({ err: error.cause ?? error, path }, "procedure failed");
          const shape = getErrorShape({
            config: router._def._config,
            error,
            type: "mutation",
            path,
            input,
            ctx,
          });
          return { ok: false, error: shape };
        }
      },
    };
  };
}
