import { z } from "zod";
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from "../auth/passwords";
import { storableText } from "../protocol/storable";
import type { Context } from "../trpc/context";
import { publicProcedure, router } from "../trpc/init";

// Parsed once here (STYLE rule 2): emails trimmed and lower-cased before they are checked.
const email = z
  .string()
  .trim()
  .toLowerCase()
  .max(320)
  .pipe(z.email({ message: "must be an email address" }));
const newPassword = z.string().min(PASSWORD_MIN_LENGTH).max(PASSWORD_MAX_LENGTH);
// At login a short password cannot match, so it is simply wrong (401), not malformed.
const password = z.string().min(1).max(PASSWORD_MAX_LENGTH);
// SEC-6: a name PostgreSQL can store (no NUL, no unpaired surrogate): a 400, not a database error.
const name = storableText(z.string().trim().min(1).max(100));
const refreshToken = z.string().min(1).max(512);

const session = z.object({
  user: z.object({ user_id: z.string(), email: z.string(), name: z.string() }),
  access_token: z.string(),
  refresh_token: z.string(),
  token_type: z.literal("Bearer"),
  expires_in: z.number().int().describe("seconds until the access token expires"),
});

const tags = ["auth"];

/** Token answers must not be cached by any intermediary (RFC 6749 §5.1); the caller, for the audit row. */
function tokenResponse(ctx: Context) {
  if (ctx.res && !ctx.res.headersSent) ctx.res.setHeader("cache-control", "no-store");
  return { ip: ctx.ip, userAgent: ctx.userAgent };
}

/** Register, login, refresh (H5) and logout (SPEC §5, §6). Public: the body is the credential. */
export const authRouter = router({
  register: publicProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/api/v1/auth/register",
        tags,
        summary: "Create an account (201)",
        errorResponses: { 409: "`email_taken`: an account with this email already exists." },
      },
      rateLimit: "AUTH",
      successStatus: 201,
    })
    .input(z.object({ email, password: newPassword, name }))
    .output(session)
    .mutation(({ ctx, input }) => ctx.deps.auth.register(input, tokenResponse(ctx))),

  login: publicProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/api/v1/auth/login",
        tags,
        summary: "Sign in with email and password",
        errorResponses: { 401: "`invalid_credentials`: the email or password is wrong." },
      },
      rateLimit: "AUTH",
    })
    .input(z.object({ email, password }))
    .output(session)
    .mutation(({ ctx, input }) => ctx.deps.auth.login(input, tokenResponse(ctx))),

  refresh: publicProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/api/v1/auth/refresh",
        tags,
        summary: "Rotate a refresh token into a new token pair (H5)",
        errorResponses: {
          401:
            "`invalid_refresh_token`: unknown, expired, revoked or already used. Using a spent token " +
            "again also revokes its whole family (AUTH-3): sign in again.",
        },
      },
      rateLimit: "H5",
    })
    .input(z.object({ refresh_token: refreshToken }))
    .output(session)
    .mutation(({ ctx, input }) => ctx.deps.auth.refresh(input.refresh_token, tokenResponse(ctx))),

  logout: publicProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/api/v1/auth/logout",
        tags,
        summary: "Revoke a refresh token and its whole family (204)",
      },
      rateLimit: "DEFAULT",
      successStatus: 204,
    })
    .input(z.object({ refresh_token: refreshToken }))
    .output(z.void())
    .mutation(async ({ ctx, input }) => {
      await ctx.deps.auth.logout(input.refresh_token, tokenResponse(ctx));
    }),
});
