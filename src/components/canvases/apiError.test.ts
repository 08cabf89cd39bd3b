import { describe, expect, it } from "vitest";
import { apiErrorMessage } from "./apiError";

describe("apiErrorMessage", () => {
  it("passes the API's own sentence through for domain errors", () => {
    expect(
      apiErrorMessage({
        message: "No user has this email address.",
        data: { httpStatus: 404, problem: { code: "user_not_found" } },
      }),
    ).toBe("No user has this email address.");
    expect(
      apiErrorMessage({
        message: "A canvas must keep at least one owner.",
        data: { httpStatus: 409, problem: { code: "last_owner" } },
      }),
    ).toBe("A canvas must keep at least one owner.");
  });

  it("turns input errors into a sentence about the field, not zod's JSON", () => {
    const zodMessage = '[{"code":"invalid_format","path":["email"],"message":"Invalid email address"}]';
    expect(
      apiErrorMessage({
        message: zodMessage,
        data: {
          httpStatus: 400,
          problem: { code: "invalid_input", errors: [{ path: "email", message: "x" }] },
        },
      }),
    ).toBe("Enter a valid email address.");
    expect(
      apiErrorMessage({
        message: zodMessage,
        data: { problem: { code: "invalid_input", errors: [{ path: "title", message: "too long" }] } },
      }),
    ).toBe("A title needs 1 to 200 characters.");
    expect(apiErrorMessage({ message: zodMessage, data: { problem: { code: "invalid_input" } } })).toBe(
      "That input is not valid.",
    );
  });

  it("has calm sentences for rate limits and server trouble", () => {
    expect(
      apiErrorMessage({
        message: "Too many requests; retry later.",
        data: { problem: { code: "rate_limited" } },
      }),
    ).toBe("Too many requests. Wait a moment and try again.");
    expect(apiErrorMessage({ message: "boom", data: { problem: { code: "weird" } } })).toBe(
      "Something went wrong. Try again.",
    );
  });

  it("says how long to wait when the API tells", () => {
    const limited = (retry_after_s: number) =>
      apiErrorMessage({
        message: "x",
        data: { httpStatus: 429, problem: { code: "rate_limited", retry_after_s } },
      });
    expect(limited(1)).toBe("Too many requests. Try again in 1 second.");
    expect(limited(9.2)).toBe("Too many requests. Try again in 10 seconds.");
    expect(limited(61)).toBe("Too many requests. Try again in 2 minutes.");
    expect(limited(86_400)).toBe("Too many requests. Try again in 24 hours.");
  });

  it("says the server could not be reached when there is no API answer", () => {
    expect(apiErrorMessage(new TypeError("Failed to fetch"))).toBe(
      "Could not reach the server. Check your connection and try again.",
    );
    expect(apiErrorMessage(undefined)).toBe(
      "Could not reach the server. Check your connection and try again.",
    );
  });
});
