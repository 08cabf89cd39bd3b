import { z } from "zod";
import { authorizeCanvas } from "../auth/access";
import { listAudit } from "../services/canvasService";
import { authedProcedure, router } from "../trpc/init";
import { canvasIdSchema } from "./canvas";

/** The canvas's audit log (owner), keyset-paginated with an opaque cursor. */
export const auditRouter = router({
  list: authedProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/v1/canvas/{canvas_id}/audit",
        tags: ["audit"],
        summary: "The canvas's audit rows, newest first (owner)",
      },
      rateLimit: "DEFAULT",
    })
    .input(
      z.object({
        canvas_id: canvasIdSchema,
        cursor: z.string().min(1).max(512).optional(),
        limit: z.coerce.number().int().min(1).max(200).default(50),
      }),
    )
    .output(
      z.object({
        items: z.array(
          z.object({
            audit_id: z.number(),
            created_at: z.string(),
            actor_id: z.string().nullable(),
            action: z.string(),
            target_id: z.string().nullable(),
            status: z.string(),
            ip: z.string().nullable(),
            user_agent: z.string().nullable(),
            latency_ms: z.number().nullable(),
            affected_rows: z.number().nullable(),
            detail: z.record(z.string(), z.unknown()),
          }),
        ),
        next_cursor: z.string().nullable(),
      }),
    )
    .query(async ({ ctx, input }) => {
      await authorizeCanvas(ctx.deps.db, ctx.principal, input.canvas_id, "owner");
      return listAudit(ctx.deps.db, input.canvas_id, { cursor: input.cursor, limit: input.limit });
    }),
});
