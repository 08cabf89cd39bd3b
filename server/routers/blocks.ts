/** Blocks of a canvas over REST (A2 page in document order, A3 one block). Thin. */
import { z } from "zod";
import { authorizeCanvas } from "../auth/access";
import { blockPageSchema, blockSchema } from "../protocol/rest";
import { SnapshotService } from "../services/snapshotService";
import { authedProcedure, router } from "../trpc/init";

const tags = ["blocks"];

export const blocksRouter = router({
  /** A2: keyset pagination on y_order with an opaque cursor (no OFFSET). */
  list: authedProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/v1/canvas/{canvas_id}/blocks",
        tags,
        summary: "Live blocks in document order, paginated",
        protect: true,
      },
      rateLimit: "A2",
    })
    .input(
      z.object({
        canvas_id: z.uuid(),
        limit: z.coerce.number().int().min(1).max(200).default(50),
        cursor: z.string().max(1024).optional(),
      }),
    )
    .output(blockPageSchema)
    .query(async ({ ctx, input }) => {
      await authorizeCanvas(ctx.deps.db, ctx.principal, input.canvas_id, "read");
      const page = await new SnapshotService(ctx.deps.db).page(input.canvas_id, input.limit, input.cursor);
      return { items: page.items, next_cursor: page.nextCursor };
    }),

  /** A3 */
  get: authedProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/v1/canvas/{canvas_id}/blocks/{block_id}",
        tags,
        summary: "One live block",
        protect: true,
      },
      rateLimit: "A3",
    })
    .input(z.object({ canvas_id: z.uuid(), block_id: z.uuid() }))
    .output(blockSchema)
    .query(async ({ ctx, input }) => {
      await authorizeCanvas(ctx.deps.db, ctx.principal, input.canvas_id, "read");
      return new SnapshotService(ctx.deps.db).block(input.canvas_id, input.block_id);
    }),
});
