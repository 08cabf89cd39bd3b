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
