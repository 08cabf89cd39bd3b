/**
 * RT-11: the database applies rebased text ops itself (potentia_apply_text_op) instead of being
 * sent the new text; it must agree with ot-text-unicode — which the clients and the server's text
 * cache use — character for character, surrogate pairs and all.
 */
import fc from "fast-check";
import { type TextOp, type as textType } from "ot-text-unicode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../tests/support/testDb";

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t?.drop();
});

const char = fc.constantFrom("a", "b", "é", "中", "😀", "👍🏽", " ", "\n");
const text = fc.array(char, { maxLength: 30 }).map((a) => a.join(""));

/** A random op that fits `doc` (skips, inserts, deletes by count or by text), normalised. */
function opFor(doc: string, picks: number[]): TextOp {
  const chars = [...doc];
  const op: TextOp = [];
  let at = 0;
  for (const p of picks) {
    if (at >= chars.length && p % 3 !== 1) break;
    const n = 1 + (p % Math.max(1, Math.min(4, chars.length - at)));
    if (p % 3 === 0 && at < chars.length) {
      op.push(n);
      at += n;
    } else if (p % 3 === 1) op.push(["x", "😀", "ü"][p % 3]!);
    else if (at < chars.length) {
      op.push(p % 2 ? { d: n } : { d: chars.slice(at, at + n).join("") });
      at += n;
    }
  }
  return textType.normalize(op);
}

describe("potentia_apply_text_op (RT-11)", () => {
  it("RT-11: the database applies a text op exactly as ot-text-unicode does", async () => {
    await fc.assert(
      fc.asyncProperty(text, fc.array(fc.nat(1000), { minLength: 1, maxLength: 8 }), async (doc, picks) => {
        const op = opFor(doc, picks);
        if (op.length === 0) return;
        const [row] = await t.db.query<{ out: string }>(
          "SELECT potentia_apply_text_op($1, $2::jsonb) AS out",
          [doc, JSON.stringify(op)],
        );
        expect(row!.out).toBe(textType.apply(doc, op));
      }),
      { numRuns: 300 },
    );
  });
});
