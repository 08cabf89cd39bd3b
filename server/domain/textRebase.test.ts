import fc from "fast-check";
import { type TextOp, type as textType } from "ot-text-unicode";
import { describe, expect, it } from "vitest";
import { rebaseTextOp } from "./textRebase";

describe("rebaseTextOp", () => {
  it("MUT-5: a stale insert is transformed over the inserts committed since its base", () => {
    // base "hello" (v1); someone inserted "A" at 0 (v2); we insert "!" at the end against v1.
    const out = rebaseTextOp({
      op: [5, "!"],
      baseVersion: 1,
      version: 2,
      content: "Ahello",
      baseContent: "hello",
      history: [{ version: 2, text_op: ["A"], content_set: false }],
    });
    expect(out).toEqual({
      kind: "applied",
      version: 2,
      textOp: [6, "!"],
      content: "Ahello!",
      mine: "hello!",
    });
  });

  it("MUT-5: ops without text (a props change) transform as identity", () => {
    const out = rebaseTextOp({
      op: ["x"],
      baseVersion: 1,
      version: 2,
      content: "abc",
      baseContent: "abc",
      history: [{ version: 2, text_op: null, content_set: false }],
    });
    expect(out).toMatchObject({ kind: "applied", content: "xabc" });
  });

  it("MUT-4: a wholesale content change since the base blocks the merge", () => {
    const out = rebaseTextOp({
      op: ["x"],
      baseVersion: 1,
      version: 2,
      content: "new",
      baseContent: "old",
      history: [{ version: 2, text_op: null, content_set: true }],
    });
    expect(out).toEqual({ kind: "blocked", version: 2, mine: "xold" });
  });

  it("MUT-5: a base older than the kept history is refused as stale_base, not merged wrongly", () => {
    const out = rebaseTextOp({
      op: ["x"],
      baseVersion: 1,
      version: 3,
      content: "abc",
      baseContent: null,
      history: [],
    });
    expect(out).toMatchObject({ kind: "invalid", code: "stale_base" });
  });

  it("MUT-5: an op that does not fit the text is invalid", () => {
    const out = rebaseTextOp({
      op: [10, "x"],
      baseVersion: 1,
      version: 1,
      content: "abc",
      baseContent: "abc",
      history: [],
    });
    expect(out).toMatchObject({ kind: "invalid", code: "invalid_op" });
  });

  it("MUT-5: N concurrent inserts against one base all survive, whatever the commit order", () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 0, maxLength: 20 }),
        fc.array(fc.tuple(fc.nat(), fc.string({ minLength: 1, maxLength: 5 })), {
          minLength: 1,
          maxLength: 12,
        }),
        (base, inserts) => {
          let content = base;
          const history: { version: number; text_op: TextOp; content_set: boolean }[] = [];
          const baseLen = [...base].length;
          for (const [pos, text] of inserts) {
            const at = pos % (baseLen + 1);
            const op: TextOp = at > 0 ? [at, text] : [text];
            const out = rebaseTextOp({
              op,
              baseVersion: 1,
              version: 1 + history.length,
              content,
              baseContent: base,
              history,
            });
            if (out.kind !== "applied") throw new Error(`not applied: ${out.kind}`);
            content = out.content;
            history.push({ version: 2 + history.length, text_op: out.textOp, content_set: false });
          }
          // Every inserted text is present and the original characters keep their order.
          let rest = content;
          for (const [, text] of inserts) {
            expect(content.includes(text)).toBe(true);
          }
          for (const ch of [...base]) {
            const i = rest.indexOf(ch);
            expect(i).toBeGreaterThanOrEqual(0);
            rest = rest.slice(i + ch.length);
          }
          expect([...content].length).toBe(baseLen + inserts.reduce((n, [, t]) => n + [...t].length, 0));
          expect(textType.apply(base, [])).toBe(base);
        },
      ),
      { numRuns: 500 },
    );
  });
});
