/**
 * Presence on the wire (RT-3, RT-7, RT-10), in one module: the one input schema (H3
 * `POST …/presence` and the socket's `sync.presence` both parse with it, so a cursor or block id
 * one transport refuses the other refuses too), the events a subscriber receives, the bus
 * channel they travel on, and the polling answer (`GET …/presence`). Whether `block_id` names a
 * live block of the canvas is checked by the presence service, not here.
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

/** One user's live state: what a presence call sets, whole (missing fields are null / false). */
export interface PresenceState {
  cursor: { x: number; y: number } | null;
  block_id: string | null;
  typing: boolean;
}

/** One user in a `presence` event and in the polling answer. */
export interface PresenceEntry extends PresenceState {
  user_id: string;
  name: string;
}

/**
 * RT-10: one frame per receiver per tick, holding the latest state of every user that changed
 * since the previous one (latest wins; a user appears once).
 */
export interface PresenceEvent {
  type: "presence";
  users: PresenceEntry[];
}

/** Users whose first socket on the canvas opened (coalesced over JOIN_COALESCE_MS). */
export interface JoinEvent {
  type: "join";
  users: { user_id: string; name: string }[];
}

/** A user's last socket closed, or they left (H6 / `sync.leave`). */
export interface LeaveEvent {
  type: "leave";
  user_id: string;
}

/**
 * What travels on `presenceChannel(canvas)` between processes: one message per presence call
 * (`update`, one user), and the join/leave events as subscribers receive them. Each process
 * coalesces the updates before its fan-out (RT-10).
 */
export type PresenceBusMessage = ({ type: "update" } & PresenceEntry) | JoinEvent | LeaveEvent;

const stateSchema = {
  cursor: z.object({ x: z.number(), y: z.number() }).nullable(),
  block_id: z.string().nullable(),
  typing: z.boolean(),
};

/** `GET …/presence`: every user online on the canvas now, with their latest state. */
export const presenceListSchema = z.object({
  users: z.array(z.object({ user_id: z.string(), name: z.string(), ...stateSchema })),
});
