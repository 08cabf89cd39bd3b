import type { inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "../../../server/routers";

type Outputs = inferRouterOutputs<AppRouter>;

/** A canvas as A4 lists it, with the caller's role. */
export type CanvasSummary = Outputs["canvas"]["list"]["canvases"][number];
export type Member = Outputs["members"]["list"]["members"][number];
/** A pending invitation (UI-10), listed to owners only. */
export type Invitation = Outputs["members"]["list"]["invitations"][number];
export type Role = CanvasSummary["role"];
