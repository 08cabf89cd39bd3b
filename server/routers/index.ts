import { router } from "../trpc/init";
import { systemRouter } from "./system";

/** The root router: one sub-router per area (`routers/<area>.ts`, thin). */
export const appRouter = router({
  system: systemRouter,
});

export type AppRouter = typeof appRouter;
