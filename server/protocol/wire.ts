/**
 * The socket's wire protocol (RT-1..3): tRPC's WebSocket protocol with plain JSON, as both sides
 * speak it — the procedure paths, what a client may send, the frames the server sends and how they
 * are built. The server's `realtime/` builds frames with these functions; the client's transport
 * reads them with these types. Imports only zod.
 */
import { z } from "zod";

/** RT-2: the procedures on the socket. */
export const SYNC_PATHS = {
  events: "sync.events",
  mutate: "sync.mutate",
  presence: "sync.presence",
  leave: "sync.leave",
} as const;

const requestId = z.union([z.number().int(), z.string().max(64)]);

/** One client → server message (RT-1). */
export const clientMessageSchema = z.union([
  z.object({
    id: requestId,
    jsonrpc: z.literal("2.0").optional(),
    method: z.literal("subscription.stop"),
  }),
  z.object({
    id: requestId,
    jsonrpc: z.literal("2.0").optional(),
    method: z.enum(["query", "mutation", "subscription"]),
    params: z.object({
      path: z.string().max(100),
      input: z.unknown().optional(),
      // SEC-6: a server_seq (a safe integer the database takes), else the message is refused.
      lastEventId: z
        .string()
        .regex(/^\d{1,15}$/)
        .optional(),
    }),
  }),
]);
export type ClientMessage = z.infer<typeof clientMessageSchema>;

/** `sync.events` input (RT-2, RT-5). */
export const eventsInputSchema = z
  .object({ since_seq: z.number().int().min(0).nullish() })
  .strict()
  .nullish();
// sync.mutate, sync.presence and sync.leave are parsed by their procedures (H2, H3, H6).

/** The error codes the socket answers with itself, as tRPC numbers and names them (JSON-RPC). */
export const WIRE_ERRORS = {
  PARSE_ERROR: { code: -32700, httpStatus: 400 },
  BAD_REQUEST: { code: -32600, httpStatus: 400 },
  UNAUTHORIZED: { code: -32001, httpStatus: 401 },
  FORBIDDEN: { code: -32003, httpStatus: 403 },
  NOT_FOUND: { code: -32004, httpStatus: 404 },
  PAYLOAD_TOO_LARGE: { code: -32013, httpStatus: 413 },
  TOO_MANY_REQUESTS: { code: -32029, httpStatus: 429 },
  INTERNAL_SERVER_ERROR: { code: -32603, httpStatus: 500 },
} as const;
export type WireErrorCode = keyof typeof WIRE_ERRORS;

/** A server → client frame, as a client reads it. */
export interface ServerFrame {
  id?: number | string | null;
  jsonrpc?: "2.0";
  result?: { type?: "started" | "stopped" | "data"; id?: string; data?: unknown };
  error?: { message?: string; code?: number; data?: { code?: string; httpStatus?: number } };
}

const rpc = (jsonrpc: boolean) => (jsonrpc ? { jsonrpc: "2.0" } : {});

/** An error frame for what the socket refuses itself (what @trpc/client turns into a TRPCClientError). */
export function errorFrame(
  id: number | string | null,
  jsonrpc: boolean,
  code: WireErrorCode,
  message: string,
  extra: Record<string, unknown> = {},
): string {
  const { code: number, httpStatus } = WIRE_ERRORS[code];
  return JSON.stringify({
    ...rpc(jsonrpc),
    id,
    error: { message, code: number, data: { code, httpStatus, ...extra } },
  });
}

export function resultFrame(id: number | string, jsonrpc: boolean, result: Record<string, unknown>): string {
  return JSON.stringify({ ...rpc(jsonrpc), id, result });
}

/** The error frame of a procedure's error, as the HTTP side's error formatter shaped it. */
export function errorShapeFrame(id: number | string, jsonrpc: boolean, error: unknown): string {
  return JSON.stringify({ ...rpc(jsonrpc), id, error });
}

/**
 * The start of a subscription's data frames (`idJson`: the request id, JSON-encoded). Frames are
 * assembled from it and the event's JSON, which is serialised once per canvas (ENV-NOTES).
 */
export function dataFrameHead(idJson: string, jsonrpc: boolean): string {
  return `{${jsonrpc ? '"jsonrpc":"2.0",' : ""}"id":${idJson},"result":{"type":"data",`;
}

/** A tracked event (an op): its server_seq is the event id the client resumes from (`lastEventId`). */
export function trackedDataFrame(head: string, seq: number, eventJson: string): string {
  return `${head}"id":"${seq}","data":{"id":"${seq}","data":${eventJson}}}}`;
}

/** An untracked event (presence, join, leave, resync). */
export function plainDataFrame(head: string, eventJson: string): string {
  return `${head}"data":${eventJson}}}`;
}

/** A data frame's event: tracked ones come as `{ id: "<seq>", data: <event> }`. */
export function eventOf(data: unknown): unknown {
  if (data && typeof data === "object" && !("type" in data) && "data" in data)
    return (data as { data: unknown }).data;
  return data;
}
