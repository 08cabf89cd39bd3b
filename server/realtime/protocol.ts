import type { TRPC_ERROR_CODE_KEY } from "@trpc/server/rpc";
import { TRPC_ERROR_CODES_BY_KEY } from "@trpc/server/rpc";
import { z } from "zod";

/** One client → server message of tRPC's WebSocket protocol (plain JSON, no transformer: RT-1). */
export const clientMessageSchema = z.union([
  z.object({
    id: z.union([z.number().int(), z.string().max(64)]),
    jsonrpc: z.literal("2.0").optional(),
    method: z.literal("subscription.stop"),
  }),
  z.object({
    id: z.union([z.number().int(), z.string().max(64)]),
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

/** RT-2 inputs. */
export const eventsInputSchema = z
  .object({ since_seq: z.number().int().min(0).nullish() })
  .strict()
  .nullish();
// sync.mutate, sync.presence and sync.leave are parsed by their procedures (H2, H3, H6).

const HTTP_STATUS: Partial<Record<TRPC_ERROR_CODE_KEY, number>> = {
  PARSE_ERROR: 400,
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  TOO_MANY_REQUESTS: 429,
  PAYLOAD_TOO_LARGE: 413,
  INTERNAL_SERVER_ERROR: 500,
};

/**
 * A tRPC-shaped error frame (what @trpc/client turns into a TRPCClientError), for what the socket
 * refuses itself (bad frames, the message budget, subscriptions).
 */
export function errorFrame(
  id: number | string | null,
  jsonrpc: boolean,
  code: TRPC_ERROR_CODE_KEY,
  message: string,
  extra: Record<string, unknown> = {},
): string {
  return JSON.stringify({
    ...(jsonrpc ? { jsonrpc: "2.0" } : {}),
    id,
    error: {
      message,
      code: TRPC_ERROR_CODES_BY_KEY[code],
      data: { code, httpStatus: HTTP_STATUS[code] ?? 500, ...extra },
    },
  });
}

export function resultFrame(id: number | string, jsonrpc: boolean, result: Record<string, unknown>): string {
  return JSON.stringify({ ...(jsonrpc ? { jsonrpc: "2.0" } : {}), id, result });
}

/** The error frame of a procedure's error, shaped by the HTTP side's error formatter. */
export function errorShapeFrame(id: number | string, jsonrpc: boolean, error: unknown): string {
  return JSON.stringify({ ...(jsonrpc ? { jsonrpc: "2.0" } : {}), id, error });
}
