import fc from "fast-check";
import { type TextOp, type as textType } from "ot-text-unicode";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type HistoryEntry, rebaseTextOp, textOpSpan } from "./textRebase";

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

  describe("SEC-5: bounded work", () => {
    afterEach(() => vi.restoreAllMocks());

    /** Every op ot-text-unicode is asked to apply, with the length of its document. */
    function watchApply() {
      const calls: { docLength: number; consumed: number }[] = [];
      const apply = textType.apply.bind(textType);
      vi.spyOn(textType, "apply").mockImplementation((doc: string, op: TextOp) => {
        calls.push({ docLength: [...doc].length, consumed: textOpSpan(op).consumed });
        return apply(doc, op);
      });
      const transform = vi.spyOn(textType, "transform");
      return { calls, transform };
    }

    it("SEC-5: an op reaching past the base text is refused before ot-text-unicode sees it", () => {
      const { calls, transform } = watchApply();
      // Slightly too long first: on a walking implementation, the huge ones take minutes.
      for (const op of [
        [6, "x"],
        [2, { d: 4 }],
        [1e8, "x"],
        [9_999_999_999, "x"],
      ] as TextOp[]) {
        const out = rebaseTextOp({
          op,
          baseVersion: 1,
          version: 2,
          content: "Ahello",
          baseContent: "hello",
          history: [{ version: 2, text_op: ["A"], content_set: false }],
        });
        expect(out).toMatchObject({ kind: "invalid", code: "invalid_op", message: /does not fit/ });
        expect(calls).toEqual([]);
        expect(transform).not.toHaveBeenCalled();
      }
    });

    it("SEC-5: without the base content, the base length comes from the current text and the ops since", () => {
      const { calls, transform } = watchApply();
      // base "hello" (5), then "A" inserted and "h" deleted: now "Aello" — the base was 5 long.
      const history: HistoryEntry[] = [
        { version: 2, text_op: ["A"], content_set: false },
        { version: 3, text_op: [1, { d: 1 }], content_set: false },
      ];
      const input = { baseVersion: 1, version: 3, content: "Aello", baseContent: null, history };
      expect(rebaseTextOp({ ...input, op: [6, "!"] })).toMatchObject({ kind: "invalid", code: "invalid_op" });
      expect(calls).toEqual([]);
      expect(transform).not.toHaveBeenCalled();
      expect(rebaseTextOp({ ...input, op: [5, "!"] })).toMatchObject({ kind: "applied", content: "Aello!" });
    });

    it("SEC-5: whatever the op and the history, every apply gets an op that fits its document", () => {
      const { calls } = watchApply();
      const component = fc.oneof(
        fc.integer({ min: 1, max: 100_000 }),
        fc.integer({ min: 1, max: 8 }),
        fc.string({ minLength: 1, maxLength: 3 }),
        fc.record({ d: fc.oneof(fc.integer({ min: 1, max: 100_000 }), fc.integer({ min: 1, max: 8 })) }),
      );
      fc.assert(
        fc.property(
          fc.string({ maxLength: 12 }),
          fc.array(fc.tuple(fc.nat(), fc.string({ minLength: 1, maxLength: 3 })), { maxLength: 4 }),
          fc.array(component, { minLength: 1, maxLength: 6 }),
          fc.boolean(),
          (base, inserts, raw, knowBase) => {
            let op: TextOp;
            try {
              op = textType.normalize(raw as TextOp);
              textType.checkOp(op);
            } catch {
              return;
            }
            if (op.length === 0) return;
            // A history of inserts committed since the base.
            let content = base;
            const history: HistoryEntry[] = [];
            for (const [pos, text] of inserts) {
              const at = pos % ([...content].length + 1);
              const entry: TextOp = at > 0 ? [at, text] : [text];
              content = textType.apply(content, entry);
              history.push({ version: 2 + history.length, text_op: entry, content_set: false });
            }
            calls.length = 0;
            const out = rebaseTextOp({
              op,
              baseVersion: 1,
              version: 1 + history.length,
              content,
              baseContent: knowBase ? base : null,
              history,
              maxLength: 100_000,
            });
            for (const call of calls) expect(call.consumed).toBeLessThanOrEqual(call.docLength);
            const fitsBase = textOpSpan(op).consumed <= [...base].length;
            expect(out.kind).toBe(fitsBase ? "applied" : "invalid");
          },
        ),
        { numRuns: 2000 },
      );
    });

    it("SEC-5: the largest allowed ops (100,000-character skips and deletes) apply over a stale base", () => {
      const base = "x".repeat(100_000);
      // 50 ops since the base, each replacing one character near the start with "y".
      const history: HistoryEntry[] = [];
      let content = base;
      for (let v = 2; v <= 51; v++) {
        const op: TextOp = v > 2 ? [v - 2, { d: 1 }, "y"] : [{ d: 1 }, "y"];
        content = textType.apply(content, op);
        history.push({ version: v, text_op: op, content_set: false });
      }
      const stale = { baseVersion: 1, version: 51, content, baseContent: base, history, maxLength: 100_000 };
      expect(rebaseTextOp({ ...stale, op: [99_999, { d: 1 }] })).toMatchObject({
        kind: "applied",
        content: `${"y".repeat(50)}${"x".repeat(99_949)}`,
      });
      // Deleting the whole base text leaves what was inserted since.
      expect(rebaseTextOp({ ...stale, op: [{ d: 100_000 }] })).toMatchObject({
        kind: "applied",
        content: "y".repeat(50),
      });
      expect(rebaseTextOp({ ...stale, op: [100_000, "z"] })).toMatchObject({
        kind: "invalid",
        code: "invalid_op",
        message: /at most 100000/,
      });
    });
  });
});
