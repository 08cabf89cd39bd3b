import { z } from "zod";
import { authorizeCanvas } from "../auth/access";
import { storableObject, storableText } from "../protocol/storable";
import {
  type Actor,
  type CanvasDeps,
  createCanvas,
  deleteCanvas,
  listCanvases,
  permissions,
  updateCanvas,
} from "../services/canvasService";
import { readIdempotencyKey } from "../services/idempotency";
import type { Context } from "../trpc/context";
import { authedProcedure, router } from "../trpc/init";

/** Canvas roles (SPEC §5 members). */
export const roleSchema = z.enum(["owner", "writer", "reader"]);
/** Path parameter: a malformed UUID is a 400, never a 404 or a database error (API-3). */
export const canvasIdSchema = z.uuid();

/** SEC-6: a title and settings PostgreSQL can store (the protocol's one rule, server/protocol/storable.ts). */
const titleSchema = storableText(z.string().trim().min(1).max(200));
const settingsSchema = storableObject();

const canvasSchema = z.object({
  canvas_id: z.uuid(),
  title: z.string(),
  settings: z.record(z.string(), z.unknown()),
  owner_id: z.uuid(),
  role: roleSchema,
  created_at: z.string(),
  updated_at: z.string(),
  last_change_at: z.string().nullable(),
});

/** What the services need of the context. */
export function serviceDeps(ctx: Context): CanvasDeps {
  return {
    db: ctx.deps.db,
    bus: ctx.deps.bus,
    onError: (error, context) => ctx.deps.log.error({ err: error, context }, "canvas control publish failed"),
  };
}

export function actorOf(ctx: Context & { principal: { userId: string } }): Actor {
  return { userId: ctx.principal.userId, ip: ctx.ip, userAgent: ctx.userAgent };
}

const TAGS = ["canvas"];

export const canvasRouter = router({
  list: authedProcedure
    .meta({
      openapi: { method: "GET", path: "/api/v1/canvas", tags: TAGS, summary: "A4: the caller's canvases" },
      rateLimit: "A4",
    })
    .input(z.object({}))
    .output(z.object({ canvases: z.array(canvasSchema) }))
    .query(async ({ ctx }) => ({ canvases: await listCanvases(ctx.deps.db, ctx.principal) })),

  create: authedProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/api/v1/canvas",
        tags: TAGS,
        summary: "A5: create a canvas (honours Idempotency-Key)",
        description:
          "201 with the canvas. With an `Idempotency-Key` header, the same key and body within 24 h " +
          "answer the first result again (header `Idempotent-Replayed: true`) and create nothing; the " +
          "same key with another body answers 422 `idempotency_mismatch`. Keys are per user. A request " +
          "whose key already has its answer is answered before the rate limit is consulted: a retry " +
          "within A5's window gets the replay, never 429.",
        requestHeaders: z.object({
          "idempotency-key": z
            .string()
            .min(1)
            .max(255)
            .optional()
            .describe("Makes retries safe: the same key and body create the canvas once (24 h, per user)."),
        }),
        errorResponses: { 422: "`idempotency_mismatch`: this key was used with another body." },
      },
      rateLimit: "A5",
      successStatus: 201,
    })
    .input(z.strictObject({ title: titleSchema, settings: settingsSchema.optional() }))
    .output(canvasSchema)
    .mutation(async ({ ctx, input }) => {
      const key = readIdempotencyKey(ctx.req.headers["idempotency-key"]);
      const answer = await createCanvas(serviceDeps(ctx), actorOf(ctx), input, key);
      if (answer.replayed) ctx.res?.setHeader("idempotent-replayed", "true");
      return answer.body;
    }),

  update: authedProcedure
    .meta({
      openapi: {
        method: "PATCH",
        path: "/api/v1/canvas/{canvas_id}",
        tags: TAGS,
        summary: "A6: rename a canvas or replace its settings (owner)",
      },
      rateLimit: "A6",
    })
    .input(
      z
        .strictObject({
          canvas_id: canvasIdSchema,
          title: titleSchema.optional(),
          settings: settingsSchema.optional(),
        })
        .refine((b) => b.title !== undefined || b.settings !== undefined, {
          message: "give title, settings or both",
        }),
    )
    .output(canvasSchema)
    .mutation(async ({ ctx, input }) => {
      await authorizeCanvas(ctx.deps.db, ctx.principal, input.canvas_id, "owner");
      return updateCanvas(serviceDeps(ctx), actorOf(ctx), input.canvas_id, {
        title: input.title,
        settings: input.settings,
      });
    }),

  delete: authedProcedure
    .meta({
      openapi: {
        method: "DELETE",
        path: "/api/v1/canvas/{canvas_id}",
        tags: TAGS,
        summary: "A7: delete a canvas (owner); 404 for everyone afterwards",
      },
      rateLimit: "A7",
      successStatus: 204,
    })
    .input(z.object({ canvas_id: canvasIdSchema }))
    .output(z.void())
    .mutation(async ({ ctx, input }) => {
      await authorizeCanvas(ctx.deps.db, ctx.principal, input.canvas_id, "owner");
      await deleteCanvas(serviceDeps(ctx), actorOf(ctx), input.canvas_id);
    }),

  permissions: authedProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/v1/canvas/{canvas_id}/permissions",
        tags: TAGS,
        summary: "A8: the caller's rights and the canvas's users",
        description: "`online` is true when the member's `last_active_at` is within the last 60 seconds.",
      },
      rateLimit: "A8",
    })
    .input(z.object({ canvas_id: canvasIdSchema }))
    .output(
      z.object({
        can_read: z.boolean(),
        can_write: z.boolean(),
        is_owner: z.boolean(),
        role: roleSchema,
        users: z.array(
          z.object({
            user_id: z.uuid(),
            name: z.string(),
            role: roleSchema,
            online: z.boolean(),
            last_active_at: z.string().nullable(),
          }),
        ),
      }),
    )
    .query(async ({ ctx, input }) => {
      const access = await authorizeCanvas(ctx.deps.db, ctx.principal, input.canvas_id, "read");
      // Presence is best effort (OPS-6): with Redis down, nobody shows as online.
      const online = await ctx.deps.presence.online(input.canvas_id).catch(() => []);
      return permissions(ctx.deps.db, access, online);
    }),
});
