import { z } from "zod";
import { authorizeCanvas } from "../auth/access";
import { DomainError } from "../domain/errors";
import { hasCanvasScope } from "../domain/scopes";
import { addMember, changeRole, listMembers, removeMember } from "../services/memberService";
import { authedProcedure, router } from "../trpc/init";
import { actorOf, canvasIdSchema, roleSchema, serviceDeps } from "./canvas";

const memberSchema = z.object({ user_id: z.uuid(), email: z.string(), name: z.string(), role: roleSchema });
const TAGS = ["members"];
const PATH = "/api/v1/canvas/{canvas_id}/members";

/** Canvas members: any member reads; the owner adds, changes and removes (SPEC §5). */
export const membersRouter = router({
  list: authedProcedure
    .meta({
      openapi: { method: "GET", path: PATH, tags: TAGS, summary: "The canvas's members" },
      rateLimit: "DEFAULT",
    })
    .input(z.object({ canvas_id: canvasIdSchema }))
    .output(z.object({ members: z.array(memberSchema) }))
    .query(async ({ ctx, input }) => {
      await authorizeCanvas(ctx.deps.db, ctx.principal, input.canvas_id, "read");
      return { members: await listMembers(ctx.deps.db, input.canvas_id) };
    }),

  add: authedProcedure
    .meta({
      openapi: {
        method: "POST",
        path: PATH,
        tags: TAGS,
        summary: "Add a registered user by email (owner)",
        description: "404 `user_not_found` for an unknown email, 409 `already_member`.",
      },
      rateLimit: "DEFAULT",
      successStatus: 201,
    })
    .input(
      z.strictObject({
        canvas_id: canvasIdSchema,
        email: z.string().trim().toLowerCase().min(3).max(320).pipe(z.email()),
        role: roleSchema,
      }),
    )
    .output(memberSchema)
    .mutation(async ({ ctx, input }) => {
      await authorizeCanvas(ctx.deps.db, ctx.principal, input.canvas_id, "owner");
      return addMember(serviceDeps(ctx), actorOf(ctx), input.canvas_id, {
        email: input.email,
        role: input.role,
      });
    }),

  update: authedProcedure
    .meta({
      openapi: {
        method: "PATCH",
        path: `${PATH}/{user_id}`,
        tags: TAGS,
        summary: "Change a member's role (owner)",
        description: "409 `last_owner` when it would leave the canvas without an owner.",
      },
      rateLimit: "DEFAULT",
    })
    .input(z.strictObject({ canvas_id: canvasIdSchema, user_id: z.uuid(), role: roleSchema }))
    .output(memberSchema)
    .mutation(async ({ ctx, input }) => {
      await authorizeCanvas(ctx.deps.db, ctx.principal, input.canvas_id, "owner");
      return changeRole(serviceDeps(ctx), actorOf(ctx), input.canvas_id, input.user_id, input.role);
    }),

  remove: authedProcedure
    .meta({
      openapi: {
        method: "DELETE",
        path: `${PATH}/{user_id}`,
        tags: TAGS,
        summary: "Remove a member (owner), or leave the canvas (yourself)",
        description: "409 `last_owner` for the canvas's only owner. Access ends at once.",
      },
      rateLimit: "DEFAULT",
      successStatus: 204,
    })
    .input(z.object({ canvas_id: canvasIdSchema, user_id: z.uuid() }))
    .output(z.void())
    .mutation(async ({ ctx, input }) => {
      const self = input.user_id === ctx.principal.userId;
      await authorizeCanvas(ctx.deps.db, ctx.principal, input.canvas_id, self ? "read" : "owner");
      // Leaving is a change to the canvas: any member may, but not through a read-only token.
      if (self && !hasCanvasScope(ctx.principal.scopes, input.canvas_id, "write"))
        throw new DomainError("forbidden", "a read-only token may not change membership");
      await removeMember(serviceDeps(ctx), actorOf(ctx), input.canvas_id, input.user_id);
    }),
});
