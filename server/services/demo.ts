import { randomUUID } from "node:crypto";
import type { SqlClient } from "../db/sql";
import type { AuthService } from "./authService";
import { type CanvasDeps, createCanvas } from "./canvasService";
import type { CanvasSync } from "./canvasSync";

export const DEMO_EMAIL = "demo@potentia.local";
export const DEMO_PASSWORD = "potentia-demo";

/**
 * Single-node development mode: a demo account and a canvas to open right away (printed by
 * `npm run dev`). Idempotent: an existing demo account is reused.
 */
/** What a new demo canvas starts with: one block of each type, through the normal write path. */
const WELCOME: { type: string; content: string; props?: Record<string, unknown> }[] = [
  { type: "heading", content: "Getting started" },
  {
    type: "text",
    content: "Everyone with access edits this canvas live. Open it in a second window to see.",
  },
  { type: "todo", content: "Invite someone with Share on the canvas list", props: { checked: false } },
  { type: "quote", content: "Nothing is overwritten without you seeing it." },
  { type: "code", content: "npm install && npm run dev" },
  { type: "divider", content: "" },
  { type: "text", content: "Press Enter for a new block, Tab to indent, Ctrl+Z to undo." },
];

export async function ensureDemo(
  deps: CanvasDeps & { db: SqlClient; canvasSync?: CanvasSync },
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
  if (canvas) return { email: DEMO_EMAIL, password: DEMO_PASSWORD, canvasId: canvas.canvas_id };
  const canvasId = (
    await createCanvas(deps, { userId, ...info }, { title: "Welcome to POTENTIA" }, undefined)
  ).body.canvas_id;
  if (deps.canvasSync) {
    let after: string | undefined;
    const ops = WELCOME.map((b) => {
      const blockId = randomUUID();
      const op = {
        client_op_id: randomUUID(),
        action: "create",
        block_id: blockId,
        type: b.type,
        content: b.content,
        props: b.props ?? {},
        ...(after ? { position: { after } } : {}),
      };
      after = blockId;
      return op;
    });
    await deps.canvasSync.mutate({ canvasId, userId, ops, ...info });
  }
  return { email: DEMO_EMAIL, password: DEMO_PASSWORD, canvasId };
}
