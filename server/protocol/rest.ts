/**
 * zod output schemas of the REST side of sync (SPEC §5: H2, H3, H4, H6, A1, A2, A3, search).
 * They mirror the TypeScript shapes in `ops.ts` (BlockJson, OpResult, OpEvent) and give the
 * OpenAPI document its response types.
 */
import { z } from "zod";
import { BLOCK_TYPES } from "./ops";

/** A block as results, events and snapshots carry it (SQL `block_json`). */
export const blockSchema = z.object({
  block_id: z.string(),
  canvas_id: z.string(),
  parent_id: z.string().nullable(),
  type: z.enum(BLOCK_TYPES),
  content: z.string(),
  props: z.record(z.string(), z.unknown()),
  /** Document order (LEX-0); null only in the `block` of a delete event/result. */
  y_order: z.string().nullable(),
  version: z.number().int(),
  created_at: z.string(),
  created_by: z.string().nullable(),
  updated_at: z.string(),
  updated_by: z.string().nullable(),
});

export const conflictFieldSchema = z.object({
  field: z.enum(["content", "props", "type", "parent_id", "position"]),
  base: z.unknown(),
  theirs: z.unknown(),
  mine: z.unknown(),
});

/** The per-op result (SPEC §2). */
export const opResultSchema = z.object({
  client_op_id: z.string().nullable(),
  block_id: z.string().nullable(),
  status: z.enum(["success", "conflict", "failed"]),
  server_seq: z.number().int().nullable(),
  version: z.number().int().nullable(),
  block: blockSchema.nullable(),
  replayed: z.boolean().optional(),
  text_op: z.array(z.unknown()).optional(),
  conflict: z
    .object({ reason: z.enum(["stale_fields", "deleted"]), fields: z.array(conflictFieldSchema) })
    .optional(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
});

/** The `op` event (RT-3, RT-9), as broadcast and as H4 replays it: a delta (see `OpEvent`). */
export const opEventSchema = z.object({
  type: z.literal("op"),
  server_seq: z.number().int(),
  prev_seq: z.number().int().nullable(),
  client_op_id: z.string(),
  user_id: z.string().nullable(),
  action: z.enum(["create", "update", "delete"]),
  block_id: z.string(),
  /** The block's version after the op. */
  version: z.number().int(),
  /** create: the new block. */
  block: blockSchema.optional(),
  /** update: the text op as applied (transformed, MUT-5). */
  text_op: z.array(z.unknown()).optional(),
  /** update: the new value of each field the op set (`y_order` for a move or a re-key). */
  set: z
    .object({
      type: z.enum(BLOCK_TYPES).optional(),
      content: z.string().optional(),
      props: z.record(z.string(), z.unknown()).optional(),
      parent_id: z.string().nullable().optional(),
      y_order: z.string().nullable().optional(),
    })
    .optional(),
  updated_at: z.string().optional(),
  updated_by: z.string().nullable().optional(),
});

/** A canvas with the caller's role (SPEC §5 "canvas"). */
export const canvasSchema = z.object({
  canvas_id: z.string(),
  title: z.string(),
  settings: z.record(z.string(), z.unknown()),
  owner_id: z.string(),
  role: z.enum(["owner", "writer", "reader"]),
  created_at: z.string(),
  updated_at: z.string(),
});

export const mutateOutputSchema = z.object({ results: z.array(opResultSchema) });

export const snapshotOutputSchema = z.discriminatedUnion("mode", [
  z.object({
    mode: z.literal("snapshot"),
    canvas: canvasSchema,
    blocks: z.array(blockSchema),
    server_seq: z.number().int(),
  }),
  z.object({ mode: z.literal("replay"), events: z.array(opEventSchema), server_seq: z.number().int() }),
]);

export const canvasOutputSchema = z.object({
  canvas: canvasSchema,
  blocks: z.array(blockSchema),
  server_seq: z.number().int(),
  realtime: z.object({
    mode: z.enum(["websocket", "polling"]),
    /** RT-9: the sync protocol (WebSocket subprotocol) this server speaks: "potentia.v2". */
    protocol: z.string(),
    ws_url: z.string(),
    poll_interval_ms: z.number().int(),
  }),
});

export const blockPageSchema = z.object({ items: z.array(blockSchema), next_cursor: z.string().nullable() });

export const okSchema = z.object({ ok: z.literal(true) });

export const searchOutputSchema = z.object({
  items: z.array(z.object({ block: blockSchema, score: z.number() })),
});

export type BlockOut = z.infer<typeof blockSchema>;
export type CanvasOut = z.infer<typeof canvasSchema>;
export type OpEventOut = z.infer<typeof opEventSchema>;
export type SnapshotOut = z.infer<typeof snapshotOutputSchema>;
