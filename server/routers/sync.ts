/**
 * The REST side of sync (SPEC §5): H2 mutate, H4 snapshot/replay, H3 presence, H6 leave, and
 * A1 (the canvas with its blocks and the real-time mode to use). Thin: input, access check
 * (API-1) first, one service call, the answer.
 */
import { z } from "zod";
import { authorizeCanvas } from "../auth/access";
import type { Principal } from "../auth/principal";
import { inCanary } from "../domain/canary";
import { DomainError } from "../domain/errors";
import { hasCanvasScope } from "../domain/scopes";
import { realtimeWsUrl } from "../domain/wsUrl";
import { POLL_INTERVAL_MS } from "../protocol/limits";
import { opsSchema } from "../protocol/ops";
import { presenceInputSchema, presenceListSchema } from "../protocol/presence";
import { canvasOutputSchema, mutateOutputSchema, okSchema, snapshotOutputSchema } from "../protocol/rest";
import { SUBPROTOCOL } from "../protocol/version";
import { SnapshotService } from "../services/snapshotService";
import type { Context } from "../trpc/context";
import { authedProcedure, router } from "../trpc/init";

const canvasId = z.uuid();
const tags = ["sync"];

/** OPS-4: A1's ws_url, from configuration only (never the request's Host). */
function wsUrl(ctx: Context, id: string): string {
  const { env } = ctx.deps;
  return realtimeWsUrl(
    { publicWsUrl: env.PUBLIC_WS_URL, host: env.HOST, port: ctx.req.socket.localPort ?? env.API_PORT },
    id,
  );
}

/**
 * OPS-4 / OPS-6: WebSocket for canvases in the canary, as long as cross-process fan-out works
 * (with Redis configured, an unhealthy bus means polling); polling otherwise.
 */
function realtimeMode(ctx: Context, id: string): "websocket" | "polling" {
  const { env, bus } = ctx.deps;
  if (!inCanary(id, env.CANARY_PERCENT)) return "polling";
  if (env.REDIS_URL && !bus.isHealthy()) return "polling";
  return "websocket";
}

/**
 * API-1 for presence calls. A socket's calls carry the read access its upgrade proved, which the
 * room keeps true (it closes the socket within 5 s of the user losing it, RT-6): the hottest call
 * there is — a cursor move — costs no membership query. HTTP calls check on every call.
 */
async function readAccess(ctx: Context & { principal: Principal }, id: string): Promise<void> {
  if (ctx.canvasAccess?.canvasId === id) return;
  await authorizeCanvas(ctx.deps.db, ctx.principal, id, "read");
}

/** H4 `since_seq`: at most 15 digits, the bound of its query-string form. */
const MAX_SINCE_SEQ = 999_999_999_999_999;

/** MUT-7's window is fixed and aligned to the epoch: seconds until the current one ends. */
function rpcRetryAfter(durationS: number, nowMs: number): number {
  const into = (nowMs / 1000) % durationS;
  return Math.max(1, Math.ceil(durationS - into));
}

export const syncRouter = router({
  /** H2 */
  mutate: authedProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/api/v1/canvas/{canvas_id}/mutate",
        tags,
        summary: "Apply 1..50 ops in order; one result per op (MUT)",
        protect: true,
      },
      rateLimit: "H2",
    })
    .input(z.object({ canvas_id: canvasId, ops: opsSchema }))
    .output(mutateOutputSchema)
    .mutation(async ({ ctx, input }) => {
      // API-1: with write scope on this canvas, the role is checked inside the commit (one round
      // trip less, RT-11, and under the canvas lock); otherwise the full check says 403 or 404.
      const scoped =
        hasCanvasScope(ctx.principal.scopes, input.canvas_id, "write") &&
        hasCanvasScope(ctx.principal.scopes, input.canvas_id, "read");
      if (!scoped) await authorizeCanvas(ctx.deps.db, ctx.principal, input.canvas_id, "write");
      const out = await ctx.deps.canvasSync.mutate({
        canvasId: input.canvas_id,
        userId: ctx.principal.userId,
        ops: input.ops,
        ip: ctx.ip,
        userAgent: ctx.userAgent,
        checkWrite: scoped,
      });
      if (out.rateLimited) {
        const rule = ctx.deps.env.RATE_LIMITS.RPC;
        const retryAfter = rpcRetryAfter(rule.duration, Date.now());
        if (ctx.res && !ctx.res.headersSent) {
          ctx.res.setHeader("Retry-After", String(retryAfter));
          ctx.res.setHeader("RateLimit-Limit", String(rule.points));
          ctx.res.setHeader("RateLimit-Remaining", "0");
          ctx.res.setHeader("RateLimit-Reset", String(retryAfter));
        }
        throw new DomainError(
          "rate_limited",
          `at most ${rule.points} mutate requests per ${rule.duration} s`,
          {
            retry_after_s: retryAfter,
          },
        );
      }
      return { results: out.results };
    }),

  /** H4 */
  snapshot: authedProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/v1/canvas/{canvas_id}/snapshot",
        tags,
        summary: "A snapshot, or the ops after since_seq (RT-5)",
        protect: true,
      },
      rateLimit: "H4",
    })
    .input(
      z.object({
        canvas_id: canvasId,
        // An integer (documented so, for generated clients); in a query string its digits. An
        // empty since_seq (a client without a position) means "no since_seq": a snapshot.
        since_seq: z
          .union([
            z.number().int().min(0).max(MAX_SINCE_SEQ),
            z.string().regex(/^\d{0,15}$/, "must be a non-negative integer"),
          ])
          .optional()
          .transform((v) => (v === undefined || v === "" ? undefined : Number(v)))
          .meta({
            description: "Replay the ops after this server_seq instead of sending a snapshot (RT-5).",
            override: ({ jsonSchema }: { jsonSchema: Record<string, unknown> }) => {
              delete jsonSchema.anyOf;
              Object.assign(jsonSchema, { type: "integer", minimum: 0, maximum: MAX_SINCE_SEQ });
            },
          }),
      }),
    )
    .output(snapshotOutputSchema)
    .query(async ({ ctx, input }) => {
      const access = await authorizeCanvas(ctx.deps.db, ctx.principal, input.canvas_id, "read");
      return new SnapshotService(ctx.deps.db).snapshot(input.canvas_id, access.role, input.since_seq);
    }),

  /** A1 */
  canvas: authedProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/v1/canvas/{canvas_id}",
        tags: ["canvas"],
        summary: "The canvas, its blocks, server_seq and the real-time mode to use (OPS-4)",
        protect: true,
      },
      rateLimit: "A1",
    })
    .input(z.object({ canvas_id: canvasId }))
    .output(canvasOutputSchema)
    .query(async ({ ctx, input }) => {
      const access = await authorizeCanvas(ctx.deps.db, ctx.principal, input.canvas_id, "read");
      const state = await new SnapshotService(ctx.deps.db).state(input.canvas_id, access.role);
      return {
        canvas: state.canvas,
        blocks: state.blocks,
        server_seq: state.serverSeq,
        realtime: {
          mode: realtimeMode(ctx, input.canvas_id),
          ws_url: wsUrl(ctx, input.canvas_id),
          poll_interval_ms: POLL_INTERVAL_MS,
          protocol: SUBPROTOCOL,
        },
      };
    }),

  /** H3: readers may send presence too (viewers show a cursor, as in Figma). */
  presence: authedProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/api/v1/canvas/{canvas_id}/presence",
        tags,
        summary: "Publish the caller's cursor / typing state (RT-7, RT-10)",
        protect: true,
      },
      rateLimit: "H3",
    })
    // The socket's sync.presence is this procedure (server/trpc/socketCaller.ts).
    .input(z.strictObject({ canvas_id: canvasId, ...presenceInputSchema.shape }))
    .output(okSchema)
    .mutation(async ({ ctx, input }) => {
      await readAccess(ctx, input.canvas_id);
      await ctx.deps.presenceService.update({
        canvasId: input.canvas_id,
        userId: ctx.principal.userId,
        cursor: input.cursor ?? null,
        blockId: input.block_id ?? null,
        typing: input.typing ?? false,
      });
      return { ok: true as const };
    }),

  /** RT-10: presence for polling clients (the socket's get `presence` frames instead). */
  presenceList: authedProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/v1/canvas/{canvas_id}/presence",
        tags,
        summary: "Who is online now, each with their latest cursor and typing state (RT-10)",
        protect: true,
      },
    })
    .input(z.object({ canvas_id: canvasId }))
    .output(presenceListSchema)
    .query(async ({ ctx, input }) => {
      await authorizeCanvas(ctx.deps.db, ctx.principal, input.canvas_id, "read");
      return { users: await ctx.deps.presenceService.list(input.canvas_id) };
    }),

  /** H6: leaves presence, not membership. */
  leave: authedProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/api/v1/canvas/{canvas_id}/leave",
        tags,
        summary: "Leave the canvas's presence (not its membership)",
        protect: true,
      },
      rateLimit: "H6",
    })
    .input(z.strictObject({ canvas_id: canvasId }))
    .output(okSchema)
    .mutation(async ({ ctx, input }) => {
      await readAccess(ctx, input.canvas_id);
      await ctx.deps.presenceService.leave(input.canvas_id, ctx.principal.userId);
      return { ok: true as const };
    }),
});
