/**
 * The one presence input (RT-7): H3 `POST …/presence` and the socket's `sync.presence` both parse
 * with this schema, so a cursor or block id one transport refuses the other refuses too. Whether
 * `block_id` names a live block of the canvas is checked by the presence service, not here.
 */
import { z } from "zod";

/** Cursor coordinates are canvas pixels: anything past ±1e9 is not a position but a probe. */
export const MAX_COORDINATE = 1e9;

/**
 * trpc-to-openapi coerces number/boolean fields of every input, bodies included ("1" → 1,
 * "yes" → true). A one-member union is not coerced: JSON bodies keep their types strictly.
 */
const exact = <T extends z.ZodType>(schema: T) => z.union([schema]);
const coordinate = exact(z.number().min(-MAX_COORDINATE).max(MAX_COORDINATE));

/** `{ cursor?: { x, y } | null, block_id?, typing? }` (SPEC §5, H3). */
export const presenceInputSchema = z.strictObject({
  cursor: z.strictObject({ x: coordinate, y: coordinate }).nullable().optional(),
  block_id: z.uuid().nullable().optional(),
  typing: exact(z.boolean()).optional(),
});
export type PresenceInput = z.infer<typeof presenceInputSchema>;
