import type { SqlClient } from "../db/sql";
import type { AuthService } from "./authService";
import { type CanvasDeps, createCanvas } from "./canvasService";

export const DEMO_EMAIL = "demo@potentia.local";
export const DEMO_PASSWORD = "potentia-demo";

/**
 * Single-node development mode: a demo account and a canvas to open right away (printed by
 * `npm run dev`). Idempotent: an existing demo account is reused.
 */
export async function ensureDemo(
  deps: CanvasDeps & { db: SqlClient },
  auth: AuthService,
): Promise<{ email: string; password: string; canvasId: string }> {
  const info = { ip: "127.0.0.1", userAgent: "potentia-dev" };
  const [existing] = await deps.db.query<{ user_id: string }>("SELECT user_id FROM users WHERE email = $1", [
    DEMO_EMAIL,
  ]);
  const userId =
    existing?.user_id ??
    (await auth.register({ email: DEMO_EMAIL, password: DEMO_PASSWORD, name: "Demo" }, info)).user.user_id;
  const [canvas] = await deps.db.query<{ canvas_id: string }>(
    `SELECT c.canvas_id FROM canvas c WHERE c.owner_id = $1 AND c.deleted_at IS NULL ORDER BY c.created_at LIMIT 1`,
    [userId],
  );
  const canvasId =
    canvas?.canvas_id ??
    (await createCanvas(deps, { userId, ...info }, { title: "Welcome to POTENTIA" }, undefined)).body
      .canvas_id;
  return { email: DEMO_EMAIL, password: DEMO_PASSWORD, canvasId };
}
