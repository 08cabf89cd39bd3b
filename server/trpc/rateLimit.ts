import { DomainError } from "../domain/errors";
import type { RateLimitId } from "../env";
import type { LimitResult } from "../ports/limiter";
import { hasStoredAnswer, IDEMPOTENT_SCOPES, readIdempotencyKey } from "../services/idempotency";
import type { Context } from "./context";

/** Rules that are per IP whatever the caller sends: sign-in happens under them (SPEC §5). */
const PER_IP_RULES: ReadonlySet<RateLimitId> = new Set(["AUTH", "M3"]);

/** The budget a request spends: the signed-in user, else the client's address. */
export function rateLimitKey(ctx: Pick<Context, "principal" | "ip">, ruleId: RateLimitId): string {
  if (ctx.principal && !PER_IP_RULES.has(ruleId)) return `user:${ctx.principal.userId}`;
  return `ip:${ctx.ip}`;
}

/** Seconds until the window resets, rounded up; at least 1 for a refusal's `Retry-After`. */
function resetSeconds(result: LimitResult): number {
  return Math.ceil(result.resetMs / 1000);
}

/** The `RateLimit-*` response headers (draft-ietf-httpapi-ratelimit-headers, `Reset` in seconds). */
export function rateLimitHeaders(result: LimitResult): Record<string, string> {
  const headers: Record<string, string> = {
    "RateLimit-Limit": String(result.limit),
    "RateLimit-Remaining": String(Math.max(0, result.remaining)),
    "RateLimit-Reset": String(resetSeconds(result)),
  };
  if (!result.allowed) headers["Retry-After"] = String(Math.max(1, resetSeconds(result)));
  return headers;
}

/**
 * A5: a retry whose `Idempotency-Key` already has its answer stored is answered from it and runs
 * nothing: it is not a new request, so the limiter is not asked (a retry within the window would
 * otherwise get 429 instead of its answer). A malformed key or a failing look-up counts as new.
 */
async function isStoredReplay(ctx: Context, ruleId: RateLimitId): Promise<boolean> {
  if (!ctx.principal || !IDEMPOTENT_SCOPES.has(ruleId)) return false;
  let key: string | undefined;
  try {
    key = readIdempotencyKey(ctx.req?.headers["idempotency-key"]);
  } catch {
    return false;
  }
  if (!key) return false;
  return hasStoredAnswer(ctx.deps.db, { userId: ctx.principal.userId, scope: ruleId, key }).catch(
    () => false,
  );
}

/**
 * API-2: spends one point of the caller's budget under rule `ruleId` (from `RATE_LIMITS`).
 * Sets the `RateLimit-*` headers on the HTTP response right away (trpc-to-openapi only sets
 * headers it got from `responseMeta`, and keeps those already on the response), and refuses with
 * `DomainError("rate_limited")` (429 + `Retry-After`) past the limit. A limiter that throws
 * (it is closing while requests drain) lets the request through: the Redis limiter already
 * falls back to per-process memory when Redis fails, so this is only ever shutdown. A stored
 * Idempotency-Key answer (A5) spends nothing and carries no `RateLimit-*` headers.
 */
export async function enforceRateLimit(ctx: Context, ruleId: RateLimitId): Promise<void> {
  if (await isStoredReplay(ctx, ruleId)) return;
  const rule = ctx.deps.env.RATE_LIMITS[ruleId] ?? ctx.deps.env.RATE_LIMITS.DEFAULT;
  let result: LimitResult;
  try {
    result = await ctx.deps.limiter.consume(ruleId, rateLimitKey(ctx, ruleId), rule);
  } catch (error) {
    ctx.deps.log.warn({ err: error, rule: ruleId }, "rate limiter unavailable; request let through");
    return;
  }
  const res = ctx.res;
  if (res && !res.headersSent) {
    for (const [name, value] of Object.entries(rateLimitHeaders(result))) res.setHeader(name, value);
  }
  if (result.allowed) return;
  ctx.deps.metrics.rateLimited(ruleId);
  const retryAfter = Math.max(1, resetSeconds(result));
  throw new DomainError("rate_limited", `Rate limit ${ruleId} exceeded; retry in ${retryAfter} s.`, {
    rule: ruleId,
    limit: result.limit,
    retry_after_s: retryAfter,
  });
}
