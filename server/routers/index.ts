import { router } from "../trpc/init";
import { auditRouter } from "./audit";
import { authRouter } from "./auth";
import { blocksRouter } from "./blocks";
import { canvasRouter } from "./canvas";
import { membersRouter } from "./members";
import { searchRouter } from "./search";
import { syncRouter } from "./sync";
import { systemRouter } from "./system";

/** The root router: one sub-router per area (`routers/<area>.ts`, thin). */
export const appRouter = router({
  system: systemRouter,
  auth: authRouter,
  canvas: canvasRouter,
  members: membersRouter,
  audit: auditRouter,
  sync: syncRouter,
  blocks: blocksRouter,
  search: searchRouter,
});

export type AppRouter = typeof appRouter;
