import type { inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "../../../server/routers";

type Outputs = inferRouterOutputs<AppRouter>;

/** A canvas as A4 lists it, with the caller's role. */
export type CanvasSummary = Outputs["canvas"]["list"]["canvases"][number];
export type Member = Outputs["members"]["list"]["members"][number];
export type Role = CanvasSummary["role"];
