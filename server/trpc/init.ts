/**
 * tRPC setup, in sections (after create-t3-app): context, init with the error formatter, then
 * procedures that narrow the context. Routers import only from here.
 */
import { initTRPC, TRPCError } from "@trpc/server";
import type { OpenApiMeta } from "trpc-to-openapi";
import { ZodError } from "zod";
import { DomainError } from "../domain/errors";
import type { RateLimitId } from "../env";
import type { Context } from "./context";
import { isUnavailableError, problemCode, problemDetails, toTRPCError } from "./errors";
import { enforceRateLimit } from "./rateLimit";

export type Meta = OpenApiMeta<{
  /** Rate-limit rule of this route (SPEC §5 ids; routes beyond the blueprint use DEFAULT). */
  rateLimit?: RateLimitId;
  /** Status of a successful REST answer when not 200 (A5: 201, A7: 204). */
  successStatus?: number;
}>;

/** The message of every 500, on every transport. */
export const INTERNAL_MESSAGE = "An unexpected error occurred.";

const t = initTRPC
  .context<Context>()
  .meta<Meta>()
  .create({
    errorFormatter({ shape, error }) {
      const zod = error.cause instanceof ZodError ? error.cause : null;
      return {
        ...shape,
        // SEC-6: an unexpected failure's message is the database's or the runtime's own text
        // (`invalid byte sequence for encoding "UTF8"`, `Maximum call stack size exceeded`):
        // logged with the cause (onError), never sent. REST replaces it too (server/http/rest.ts).
        message: error.code === "INTERNAL_SERVER_ERROR" ? INTERNAL_MESSAGE : shape.message,
        data: {
          ...shape.data,
          problem: {
            code: zod ? "invalid_input" : problemCode(error),
            ...(zod
              ? {
                  errors: zod.issues.map((i) => ({
                    path: i.path.join("."),
                    message: i.message,
                    code: i.code,
                  })),
                }
              : {}),
            ...(problemDetails(error) ?? {}),
          },
          stack: undefined,
        },
      };
    },
  });

/**
 * DomainErrors thrown below become typed tRPC errors here, and so does a dependency that cannot
 * be reached (`unavailable`, 503: the database down is the same answer on every transport). (In
 * tRPC v11 a try/catch around `next()` catches nothing: the result says whether the call failed.)
 */
const domainErrors = t.middleware(async ({ ctx, path, next }) => {
  const result = await next();
  if (result.ok) return result;
  const cause = result.error.cause;
  if (cause instanceof DomainError) throw toTRPCError(cause);
  if (isUnavailableError(cause)) {
    ctx.deps.log.warn({ err: cause, path }, "dependency unavailable");
    throw toTRPCError(new DomainError("unavailable"));
  }
  return result;
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;
export const middleware = t.middleware;

/**
 * API-2: every procedure spends a point of its `meta.rateLimit` rule (DEFAULT when unset). A socket
 * call has spent one of its socket's budget already (RT-6: per socket for H1, SPEC §5).
 */
const rateLimited = t.middleware(async ({ ctx, meta, next }) => {
  if (ctx.transport !== "socket") await enforceRateLimit(ctx, meta?.rateLimit ?? "DEFAULT");
  return next();
});

/** Anyone; rate-limited per user when signed in, else per IP. */
export const publicProcedure = t.procedure.use(domainErrors).use(rateLimited);

/** A verified access token is required (AUTH-2); `ctx.principal` is set below. */
export const requireAuth = t.middleware(({ ctx, next }) => {
  if (!ctx.principal) {
    throw new TRPCError({ code: "UNAUTHORIZED", message: "a valid bearer access token is required" });
  }
  return next({ ctx: { ...ctx, principal: ctx.principal } });
});
export const authedProcedure = publicProcedure.use(requireAuth);
