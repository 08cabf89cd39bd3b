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
