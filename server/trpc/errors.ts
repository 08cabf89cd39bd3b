import { TRPCError } from "@trpc/server";
import type { TRPC_ERROR_CODE_KEY } from "@trpc/server/rpc";
import { DomainError, type DomainErrorCode } from "../domain/errors";

/** DomainError code → tRPC code (and so HTTP status). The one place this mapping lives. */
const DOMAIN_TO_TRPC: Record<DomainErrorCode, TRPC_ERROR_CODE_KEY> = {
  canvas_not_found: "NOT_FOUND",
  forbidden: "FORBIDDEN",
  rate_limited: "TOO_MANY_REQUESTS",
  invalid_input: "BAD_REQUEST",
  unavailable: "SERVICE_UNAVAILABLE",
  internal: "INTERNAL_SERVER_ERROR",
  email_taken: "CONFLICT",
  invalid_credentials: "UNAUTHORIZED",
  invalid_refresh_token: "UNAUTHORIZED",
  user_not_found: "NOT_FOUND",
  member_not_found: "NOT_FOUND",
  already_member: "CONFLICT",
  already_invited: "CONFLICT",
  invitation_not_found: "NOT_FOUND",
  last_owner: "CONFLICT",
  idempotency_mismatch: "UNPROCESSABLE_CONTENT",
};

/** Stable problem `code`s for errors that come from tRPC itself rather than a DomainError. */
const TRPC_TO_CODE: Partial<Record<TRPC_ERROR_CODE_KEY, string>> = {
  PARSE_ERROR: "malformed_json",
  BAD_REQUEST: "invalid_input",
  UNAUTHORIZED: "unauthorized",
  FORBIDDEN: "forbidden",
  NOT_FOUND: "not_found",
  METHOD_NOT_SUPPORTED: "method_not_allowed",
  CONFLICT: "conflict",
  PAYLOAD_TOO_LARGE: "payload_too_large",
  UNSUPPORTED_MEDIA_TYPE: "unsupported_media_type",
  UNPROCESSABLE_CONTENT: "unprocessable",
  TOO_MANY_REQUESTS: "rate_limited",
  TIMEOUT: "timeout",
  SERVICE_UNAVAILABLE: "unavailable",
  INTERNAL_SERVER_ERROR: "internal",
};

/** Node's codes for a peer that cannot be reached or went away. */
const UNREACHABLE = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
]);

/**
 * True when an error means a dependency cannot be reached (the database down or restarting, its
 * pool out of connections), so the caller should retry later: `unavailable` (503), the same on
 * every transport. SQLSTATE class 08 (connection exception), 57P01..57P03 (shutdown, cannot
 * connect now) and 53300 (too many connections); node-postgres's own pool and connection errors
 * carry no code, only their message.
 */
export function isUnavailableError(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === "string" ? e.code : "";
  if (UNREACHABLE.has(code) || code.startsWith("08") || /^57P0[123]$/.test(code) || code === "53300")
    return true;
  const message = typeof e?.message === "string" ? e.message : "";
  return /^(timeout exceeded when trying to connect|Connection terminated)/.test(message);
}

export function toTRPCError(error: DomainError): TRPCError {
  return new TRPCError({ code: DOMAIN_TO_TRPC[error.code], message: error.message, cause: error });
}

/** The stable problem code of any error that reached the formatter. */
export function problemCode(error: TRPCError): string {
  if (error.cause instanceof DomainError) return error.cause.code;
  return TRPC_TO_CODE[error.code] ?? "internal";
}

/** Extra problem members a DomainError may carry (e.g. `retry_after_s`). */
export function problemDetails(error: TRPCError): Record<string, unknown> | undefined {
  return error.cause instanceof DomainError ? error.cause.details : undefined;
}
