import { z } from "zod";
import { MAX_CONTENT_CHARS, MAX_OPS_PER_REQUEST, MAX_TEXT_OP_COMPONENTS } from "./limits";
import { MAX_INT4, storableObject, storableText } from "./storable";
import { textOpProblem, textOpSpan } from "./textOp";

export { MAX_CONTENT_CHARS, MAX_OPS_PER_REQUEST };

/** Block types a canvas may hold (mirrors the CHECK on blocks.type). */
export const BLOCK_TYPES = ["text", "heading", "todo", "code", "quote", "divider"] as const;

/** A skip or delete count: a count past MAX_CONTENT_CHARS can never fit a block's text. */
const count = z
  .number()
  .int()
  .positive()
  .max(MAX_CONTENT_CHARS, {
    message: `reaches past the end of any block's text (${MAX_CONTENT_CHARS} characters)`,
  });
const piece = storableText(z.string().min(1));
const textOpComponent = z.union([count, piece, z.strictObject({ d: z.union([count, piece]) })]);

/**
 * An `ot-text-unicode` op (MUT-5), held to the type's own rules (`textOpProblem`). SEC-5: ot-text-unicode walks skip
 * and delete counts character by character (a skip of 1e8 over a 5-character text took 8.7 s),
 * so an op whose skips and deletes reach past the longest text a block can hold, or whose inserts
 * could never fit one, is refused here, before any work; the rebase (domain/textRebase.ts) then
 * holds it against the actual base text. SEC-6: inserted and deleted text must be storable.
 */
export const textOpSchema = z
  .array(textOpComponent)
  .min(1)
  .max(MAX_TEXT_OP_COMPONENTS)
  .superRefine((op, ctx) => {
    // Runs only when every component has its type (zod skips refinements after a type error).
    const { consumed, inserted } = textOpSpan(op);
    if (consumed > MAX_CONTENT_CHARS) {
      ctx.addIssue({
        code: "custom",
        message: `skips and deletes ${consumed} characters: reaches past the end of any block's text (${MAX_CONTENT_CHARS} characters)`,
      });
      return;
    }
    if (inserted > MAX_CONTENT_CHARS) {
      ctx.addIssue({
        code: "custom",
        message: `inserts ${inserted} characters: more than a block's text may hold (${MAX_CONTENT_CHARS})`,
      });
      return;
    }
    const problem = textOpProblem(op);
    if (problem) ctx.addIssue({ code: "custom", message: `invalid text_op: ${problem}` });
  });

const position = z
  .strictObject({ after: z.uuid().nullish(), before: z.uuid().nullish() })
  .transform((p) => ({ after: p.after ?? undefined, before: p.before ?? undefined }));

/** One op as a client sends it (SPEC §2). Unknown fields are refused. */
export const opSchema = z
  .strictObject({
    client_op_id: z.uuid(),
    action: z.enum(["create", "update", "delete"]),
    block_id: z.uuid(),
    base_version: z.number().int().min(1).max(MAX_INT4).optional(),
    /** MUT-9: the client_op_id of this client's previous op on the same block still unanswered when this one was made. */
    prev_client_op_id: z.uuid().optional(),
    type: z.enum(BLOCK_TYPES).optional(),
    parent_id: z.uuid().nullable().optional(),
    content: storableText(z.string().max(MAX_CONTENT_CHARS)).optional(),
    props: storableObject({ maxKeyChars: 100 }).optional(),
    text_op: textOpSchema.optional(),
    position: position.optional(),
  })
  .superRefine((op, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: "custom", path: [path], message });
    if (op.action !== "create" && op.base_version === undefined) {
      issue("base_version", `is required for ${op.action}`);
    }
    if (op.action === "create") {
      if (op.type === undefined) issue("type", "is required for create");
      if (op.text_op !== undefined) issue("text_op", "is not allowed for create (send content)");
      if (op.base_version !== undefined) issue("base_version", "is not allowed for create");
      if (op.prev_client_op_id !== undefined) issue("prev_client_op_id", "is not allowed for create");
    }
    if (op.action === "delete") {
      for (const f of ["type", "parent_id", "content", "props", "text_op", "position"] as const) {
        if (op[f] !== undefined) issue(f, "is not allowed for delete");
      }
    }
    if (op.action === "update") {
      if (op.text_op !== undefined && op.content !== undefined)
        issue("text_op", "cannot be sent with content");
      const sets = ["type", "parent_id", "content", "props", "text_op", "position"] as const;
      if (!sets.some((f) => op[f] !== undefined)) issue("action", "update changes nothing");
    }
    if (op.position?.after && op.position.after === op.position.before) {
      issue("position", "after and before must differ");
    }
    if (op.position && (op.position.after === op.block_id || op.position.before === op.block_id)) {
      issue("position", "a block cannot be placed next to itself");
    }
    if (op.parent_id && op.parent_id === op.block_id) issue("parent_id", "a block cannot be its own parent");
    if (op.prev_client_op_id === op.client_op_id) issue("prev_client_op_id", "an op cannot follow itself");
  });
export type Op = z.infer<typeof opSchema>;

export const opsSchema = z.array(z.unknown()).min(1).max(MAX_OPS_PER_REQUEST);

export type OpStatus = "success" | "conflict" | "failed";

export interface BlockJson {
  block_id: string;
  canvas_id: string;
  parent_id: string | null;
  type: (typeof BLOCK_TYPES)[number];
  content: string;
  props: Record<string, unknown>;
  y_order: string;
  version: number;
  created_at: string;
  created_by: string | null;
  updated_at: string;
  updated_by: string | null;
}

export interface ConflictField {
  field: "content" | "props" | "type" | "parent_id" | "position";
  base: unknown;
  theirs: unknown;
  mine: unknown;
}

/** The per-op result (SPEC §2). */
export interface OpResult {
  client_op_id: string | null;
  block_id: string | null;
  status: OpStatus;
  server_seq: number | null;
  version: number | null;
  block: BlockJson | null;
  replayed?: boolean;
  text_op?: unknown[];
  conflict?: { reason: "stale_fields" | "deleted"; fields: ConflictField[] };
  error?: { code: string; message: string };
}

/** The fields an update's delta may set (RT-9): each with its new value. */
export type BlockFieldsSet = Partial<Pick<BlockJson, "type" | "content" | "props" | "parent_id" | "y_order">>;

/**
 * The `op` event (RT-3, RT-9) as broadcast and replayed: a delta, never the whole block except for
 * a create (potentia_op_event builds it, live and replayed alike). `version` is the block's version
 * after the op; an update carries its transformed `text_op` and/or `set` (the new value of each
 * field it set: a wholesale `content`, the whole resulting `props`, `y_order` for a move or a
 * re-key); a delete carries nothing more.
 */
export interface OpEvent {
  type: "op";
  server_seq: number;
  prev_seq: number | null;
  client_op_id: string;
  user_id: string | null;
  action: "create" | "update" | "delete";
  block_id: string;
  version: number;
  /** create: the new block. */
  block?: BlockJson;
  /** update: the text op as applied (transformed, MUT-5). */
  text_op?: unknown[];
  /** update: the fields it set, with their new values. */
  set?: BlockFieldsSet;
  /** update: when and by whom (the block's updated_at / updated_by after the op). */
  updated_at?: string;
  updated_by?: string | null;
}
