import { z } from "zod";
import { authorizeCanvas } from "../auth/access";
import { DomainError } from "../domain/errors";
import { hasCanvasScope } from "../domain/scopes";
import {
  cancelInvitation,
  changeInvitationRole,
  changeRole,
  inviteMember,
  listInvitations,
  listMembers,
  removeMember,
} from "../services/memberService";
import { authedProcedure, router } from "../trpc/init";
import { actorOf, canvasIdSchema, roleSchema, serviceDeps } from "./canvas";

const memberSchema = z.object({ user_id: z.uuid(), email: z.string(), name: z.string(), role: roleSchema });
const invitationSchema = z.object({
  invitation_id: z.uuid(),
  email: z.string(),
  role: roleSchema,
  created_at: z.string(),
});
const TAGS = ["members"];
const PATH = "/api/v1/canvas/{canvas_id}/members";
const INVITATIONS = "/api/v1/canvas/{canvas_id}/invitations";

/** Canvas members: any member reads; the owner adds, changes and removes (SPEC §5). */
export const membersRouter = router({
  list: authedProcedure
    .meta({
      openapi: {
        method: "GET",
        path: PATH,
        tags: TAGS,
        summary: "The canvas's members, and its pending invitations (owner)",
        description:
          "`invitations` is empty unless the caller is an owner. A member whose invitation is still pending is listed as the invitation.",
      },
      rateLimit: "DEFAULT",
    })
    .input(z.object({ canvas_id: canvasIdSchema }))
    .output(z.object({ members: z.array(memberSchema), invitations: z.array(invitationSchema) }))
    .query(async ({ ctx, input }) => {
      const access = await authorizeCanvas(ctx.deps.db, ctx.principal, input.canvas_id, "read");
      const [members, invitations] = await Promise.all([
        listMembers(ctx.deps.db, input.canvas_id),
        access.isOwner ? listInvitations(ctx.deps.db, input.canvas_id) : [],
      ]);
      return { members, invitations };
    }),

  add: authedProcedure
    .meta({
      openapi: {
        method: "POST",
        path: PATH,
        tags: TAGS,
        summary: "Invite an email to the canvas (owner)",
        description:
          "201 with the invitation, the same whether or not the email has an account (UI-10): it is accepted when that email registers or signs in; an existing account has access at once. 409 `already_member`, 409 `already_invited`. Rate rule `INVITE` (per user).",
        errorResponses: { 409: "`already_member` or `already_invited`." },
      },
      rateLimit: "INVITE",
      successStatus: 201,
    })
    .input(
      z.strictObject({
        canvas_id: canvasIdSchema,
        email: z.string().trim().toLowerCase().min(3).max(320).pipe(z.email()),
        role: roleSchema,
      }),
    )
    .output(invitationSchema)
    .mutation(async ({ ctx, input }) => {
      await authorizeCanvas(ctx.deps.db, ctx.principal, input.canvas_id, "owner");
      return inviteMember(serviceDeps(ctx), actorOf(ctx), input.canvas_id, {
        email: input.email,
        role: input.role,
      });
    }),

  updateInvitation: authedProcedure
    .meta({
      openapi: {
        method: "PATCH",
        path: `${INVITATIONS}/{invitation_id}`,
        tags: TAGS,
        summary: "Change a pending invitation's role (owner)",
        description: "404 `invitation_not_found`.",
        errorResponses: { 409: "`last_owner`: the canvas would be left without an owner." },
      },
      rateLimit: "DEFAULT",
    })
    .input(z.strictObject({ canvas_id: canvasIdSchema, invitation_id: z.uuid(), role: roleSchema }))
    .output(invitationSchema)
    .mutation(async ({ ctx, input }) => {
      await authorizeCanvas(ctx.deps.db, ctx.principal, input.canvas_id, "owner");
      return changeInvitationRole(
        serviceDeps(ctx),
        actorOf(ctx),
        input.canvas_id,
        input.invitation_id,
        input.role,
      );
    }),

  cancelInvitation: authedProcedure
    .meta({
      openapi: {
        method: "DELETE",
        path: `${INVITATIONS}/{invitation_id}`,
        tags: TAGS,
        summary: "Withdraw a pending invitation (owner)",
        description: "204; any access it gave ends at once. 404 `invitation_not_found`.",
        errorResponses: { 409: "`last_owner`: the canvas would be left without an owner." },
      },
      rateLimit: "DEFAULT",
      successStatus: 204,
    })
    .input(z.object({ canvas_id: canvasIdSchema, invitation_id: z.uuid() }))
    .output(z.void())
    .mutation(async ({ ctx, input }) => {
      await authorizeCanvas(ctx.deps.db, ctx.principal, input.canvas_id, "owner");
      await cancelInvitation(serviceDeps(ctx), actorOf(ctx), input.canvas_id, input.invitation_id);
    }),

  update: authedProcedure
    .meta({
      openapi: {
        method: "PATCH",
        path: `${PATH}/{user_id}`,
        tags: TAGS,
        summary: "Change a member's role (owner)",
        description: "409 `last_owner` when it would leave the canvas without an owner.",
        errorResponses: { 409: "`last_owner`: the canvas would be left without an owner." },
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
        errorResponses: { 409: "`last_owner`: the canvas would be left without an owner." },
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
