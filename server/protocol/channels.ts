/**
 * The bus (pub/sub: Redis in production, in-process in single-node mode): every channel name and
 * the messages that travel on them, in one place (the presence channel's messages are in
 * `presence.ts`). Publishers and subscribers on every process import these.
 */
import type { OpEvent } from "./ops";

/** A canvas's committed op events, published after COMMIT (MUT-1), in server_seq order (RT-3, RT-4). */
export const canvasChannel = (canvasId: string) => `canvas:${canvasId}`;
/** What travels on `canvasChannel`: one message per committed group. */
export interface CanvasBusMessage {
  canvas_id: string;
  events: OpEvent[];
}

/** Presence, join and leave of a canvas (RT-7, RT-10; messages: `PresenceBusMessage`). */
export const presenceChannel = (canvasId: string) => `presence:${canvasId}`;

/** A canvas's membership and lifecycle changes, read by the real-time engine (RT-6). */
export const canvasControlChannel = (canvasId: string) => `canvas-control:${canvasId}`;
/** One user's notifications (RT-8: the SSE stream). */
export const userChannel = (userId: string) => `user:${userId}`;

export type CanvasRole = "owner" | "writer" | "reader";

/** What travels on `canvasControlChannel` and `userChannel`. */
export type ControlMessage =
  | { type: "canvas_deleted"; canvas_id: string }
  | { type: "canvas_updated"; canvas_id: string; title: string; updated_at: string }
  | { type: "member_added" | "member_changed"; canvas_id: string; user_id: string; role: CanvasRole }
  | { type: "member_removed"; canvas_id: string; user_id: string };
