/**
 * A plain sentence for an API error, for `role="alert"`. tRPC errors carry the API's problem
 * (server/trpc/init.ts errorFormatter): domain errors already have a readable message; input
 * errors get one written here per field; anything unknown gets a calm generic sentence.
 */

interface ProblemShape {
  code?: string;
  retry_after_s?: number;
  errors?: { path?: string; message?: string }[];
}

/** The part of a TRPCClientError this reads (structural, so it is testable without a client). */
export interface ApiErrorLike {
  message?: string;
  data?: { httpStatus?: number; problem?: ProblemShape } | null;
}

const FIELD_SENTENCES: Record<string, string> = {
  email: "Enter a valid email address.",
  title: "A title needs 1 to 200 characters.",
  role: "Choose a role.",
};

const CODE_SENTENCES: Record<string, string> = {
  rate_limited: "Too many requests. Wait a moment and try again.",
  unauthorized: "Your session has ended. Sign in again.",
  unavailable: "The server is busy right now. Try again in a moment.",
  internal: "Something went wrong on our side. Try again.",
};

export function apiErrorMessage(error: unknown): string {
  const e = (error ?? {}) as ApiErrorLike;
  const problem = e.data?.problem;
  if (!e.data) {
    // No tRPC error shape at all: the request never got an answer from the API.
    return "Could not reach the server. Check your connection and try again.";
  }
  if (problem?.code === "invalid_input") {
    for (const issue of problem.errors ?? []) {
      const field = issue.path?.split(".")[0] ?? "";
      const sentence = FIELD_SENTENCES[field];
      if (sentence) return sentence;
    }
    return "That input is not valid.";
  }
  if (problem?.code === "rate_limited" && typeof problem.retry_after_s === "number") {
    return `Too many requests. Try again in ${waitFor(problem.retry_after_s)}.`;
  }
  const byCode = problem?.code ? CODE_SENTENCES[problem.code] : undefined;
  if (byCode) return byCode;
  // Domain errors (user_not_found, last_owner, …) come with a sentence written for people.
  if (e.message && /^[A-Z].*[.!]$/.test(e.message.trim())) return e.message.trim();
  return "Something went wrong. Try again.";
}

/** "12 seconds", "5 minutes", "24 hours": rounded up, so waiting that long is enough. */
function waitFor(seconds: number): string {
  const s = Math.max(1, Math.ceil(seconds));
  const [n, unit] =
    s < 60 ? [s, "second"] : s < 3600 ? [Math.ceil(s / 60), "minute"] : [Math.ceil(s / 3600), "hour"];
  return `${n} ${unit}${n === 1 ? "" : "s"}`;
}
