import { describe, expect, it } from "vitest";
import { opSchema } from "./ops";

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;

describe("opSchema", () => {
  it("MUT-2: accepts the SPEC's op shapes", () => {
    expect(
      opSchema.safeParse({ client_op_id: id(1), action: "create", block_id: id(2), type: "text" }).success,
    ).toBe(true);
    expect(
      opSchema.safeParse({
        client_op_id: id(1),
        action: "update",
        block_id: id(2),
        base_version: 3,
        text_op: [2, "x"],
      }).success,
    ).toBe(true);
    expect(
      opSchema.safeParse({ client_op_id: id(1), action: "delete", block_id: id(2), base_version: 1 }).success,
    ).toBe(true);
  });

  it.each([
    ["missing base_version on update", { action: "update", content: "x" }],
    ["missing type on create", { action: "create" }],
    ["unknown field", { action: "create", type: "text", evil: 1 }],
    ["bad type", { action: "create", type: "table" }],
    ["bad text_op", { action: "update", base_version: 1, text_op: [0, "x"] }],
    ["text_op with content", { action: "update", base_version: 1, text_op: ["x"], content: "y" }],
    ["update changing nothing", { action: "update", base_version: 1 }],
    ["delete carrying content", { action: "delete", base_version: 1, content: "x" }],
    ["self as parent", { action: "update", base_version: 1, parent_id: id(2) }],
    ["oversize content", { action: "create", type: "text", content: "x".repeat(100_001) }],
    ["negative version", { action: "update", base_version: -1, content: "x" }],
  ])("MUT-2: refuses an invalid op before SQL (%s)", (_name, fields) => {
    const parsed = opSchema.safeParse({ client_op_id: id(1), block_id: id(2), ...fields });
    expect(parsed.success).toBe(false);
  });

  it("MUT-2: refuses non-UUID ids", () => {
    expect(
      opSchema.safeParse({ client_op_id: "1", action: "create", block_id: id(2), type: "text" }).success,
    ).toBe(false);
  });
});
