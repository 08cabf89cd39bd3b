import { z } from "zod";
import { publicProcedure, router } from "../trpc/init";

/** Who am I: the verified principal of the bearer token, or null. */
export const systemRouter = router({
  whoami: publicProcedure
    .meta({
      openapi: { method: "GET", path: "/api/v1/whoami", tags: ["system"], summary: "The caller's identity" },
    })
    .input(z.object({}))
    .output(z.object({ user_id: z.string().nullable(), scopes: z.array(z.string()) }))
    .query(({ ctx }) => ({ user_id: ctx.principal?.userId ?? null, scopes: ctx.principal?.scopes ?? [] })),
});
