/**
 * Semantic search (SPEC §5 beyond the blueprint; DB-7). Ranking needs an embedding of `q`, and
 * no embedding provider exists yet (WRK-1): the route validates its input, checks access, and
 * answers 503 — `vector_unavailable` without pgvector, `search_unavailable` otherwise.
 */
import { z } from "zod";
import { authorizeCanvas } from "../auth/access";
import { vectorAvailable } from "../db/vector";
import { DomainError } from "../domain/errors";
import { searchOutputSchema } from "../protocol/rest";
import { authedProcedure, router } from "../trpc/init";

export const searchRouter = router({
  search: authedProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/v1/canvas/{canvas_id}/search",
        tags: ["search"],
        summary: "Blocks nearest in meaning to q (503 until the embedding worker exists)",
        protect: true,
        errorResponses: {
          503:
            "`search_unavailable` until the embedding worker runs (WRK-1); `vector_unavailable` where " +
            "the database has no pgvector (DB-7). Retry later.",
        },
      },
      rateLimit: "DEFAULT",
    })
    .input(
      z.object({
        canvas_id: z.uuid(),
        q: z.string().trim().min(1).max(500),
        k: z.coerce.number().int().min(1).max(50).default(10),
      }),
    )
    .output(searchOutputSchema)
    .query(async ({ ctx, input }) => {
      await authorizeCanvas(ctx.deps.db, ctx.principal, input.canvas_id, "read");
      if (!(await vectorAvailable(ctx.deps.db))) {
        const detail = "semantic search needs pgvector, which this database does not have (DB-7)";
        throw new DomainError("unavailable", detail, { code: "vector_unavailable", detail });
      }
      const detail = "semantic search needs the embedding worker (WRK-1), which is not running yet";
      throw new DomainError("unavailable", detail, { code: "search_unavailable", detail });
    }),
});
