/**
 * The one catalogue of domain error codes. Only `server/trpc` and the routers turn these into
 * HTTP/tRPC errors (mapped in one place).
 */
export const DOMAIN_ERRORS = {
  canvas_not_found: "The canvas does not exist or you cannot see it.",
  forbidden: "You may not do this on this canvas.",
  rate_limited: "Too many requests; retry later.",
  invalid_input: "The request is not valid.",
  unavailable: "A dependency is unavailable; retry later.",
  internal: "Something went wrong on our side.",
  // Identity (AUTH-1, AUTH-3).
  email_taken: "An account with this email already exists.",
  invalid_credentials: "The email or password is wrong.",
  invalid_refresh_token: "The refresh token is invalid, expired or revoked; sign in again.",
  // Canvas membership and idempotency (SPEC §5 members routes, A5).
  user_not_found: "No user has this email address.",
  member_not_found: "This user is not a member of the canvas.",
  already_member: "This user is already a member of the canvas.",
  already_invited: "This email has already been invited to the canvas.",
  invitation_not_found: "There is no such invitation on this canvas.",
  last_owner: "A canvas must keep at least one owner.",
  idempotency_mismatch: "This Idempotency-Key was already used with a different request.",
} as const;
export type DomainErrorCode = keyof typeof DOMAIN_ERRORS;

export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string = DOMAIN_ERRORS[code],
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "DomainError";
  }
}
