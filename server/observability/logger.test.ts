import { describe, expect, it } from "vitest";
import { createLogger } from "./logger";

function capture() {
  const lines: string[] = [];
  const log = createLogger("info", {}, { write: (line: string) => void lines.push(line) });
  return { log, lines };
}

describe("logger (SEC-1)", () => {
  it("SEC-1: a database error's statement and parameters never reach a log line", () => {
    const { log, lines } = capture();
    const error = Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), {
      code: "22021",
      query: "INSERT INTO users (email, name, password_hash) VALUES ($1, $2, $3)",
      params: ["alice@example.test", "Alice", "$argon2id$v=19$m=65536,t=3,p=4$secret-hash"],
    });
    log.error({ err: new Error("procedure failed", { cause: error }) }, "request failed");
    log.error({ err: error }, "direct");
    const out = lines.join("\n");
    expect(out).not.toContain("argon2id");
    expect(out).not.toContain("alice@example.test");
    expect(out).not.toContain("INSERT INTO users");
    // What helps an operator stays: the message, the SQLSTATE, the stack.
    expect(out).toContain("invalid byte sequence");
    expect(out).toContain("22021");
    expect(JSON.parse(lines[1]!).err.stack).toContain("logger.test.ts");
  });
});
