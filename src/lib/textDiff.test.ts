import { type as textType } from "ot-text-unicode";
import { describe, expect, it } from "vitest";
import { codePoints, diffText, textOpFromDiff, transformCaret } from "./textDiff";

/** Applying the op to `before` must give `after` exactly (what the server will do). */
function roundTrip(before: string, after: string) {
  const op = textOpFromDiff(before, after);
  expect(op).not.toBeNull();
  if (op) {
    textType.checkOp(op);
    expect(textType.apply(before, op)).toBe(after);
  }
  return op;
}

describe("textOpFromDiff", () => {
  it("returns null for equal strings", () => {
    expect(textOpFromDiff("abc", "abc")).toBeNull();
  });

  it("typing at the end is a retain and an insert", () => {
    expect(roundTrip("Hello", "Hello!")).toEqual([5, "!"]);
  });

  it("typing at the start is a bare insert", () => {
    expect(roundTrip("ello", "Hello")).toEqual(["H"]);
  });

  it("backspace in the middle is a retain and a delete count", () => {
    expect(roundTrip("Hello", "Helo")).toEqual([3, { d: 1 }]);
  });

  it("replacing a selection deletes then inserts", () => {
    expect(roundTrip("the quick fox", "the slow fox")).toEqual([4, { d: 5 }, "slow"]);
  });

  it("clearing everything", () => {
    expect(roundTrip("abc", "")).toEqual([{ d: 3 }]);
  });

  it("counts positions in code points after an emoji (surrogate pair)", () => {
    // "😀" is 2 UTF-16 units but 1 code point: the retain must be 2, not 3.
    expect(roundTrip("😀a", "😀ab")).toEqual([2, "b"]);
  });

  it("deleting an emoji deletes one code point", () => {
    expect(roundTrip("a😀b", "ab")).toEqual([1, { d: 1 }]);
  });

  it("never splits a surrogate pair when two emoji share the high surrogate", () => {
    // 😀 = D83D DE00, 😁 = D83D DE01: the common UTF-16 prefix ends inside the pair.
    const op = roundTrip("x😀", "x😁");
    expect(op).toEqual([1, { d: 1 }, "😁"]);
  });

  it("never splits a surrogate pair at the suffix", () => {
    // 🙂 = D83D DE42 and 😂 = D83D DE02 share the high surrogate; the low ones differ.
    roundTrip("a🙂", "a😂");
    // Same low surrogate, different high one: 𐐂 (D801 DC02) vs 😂 (D83D DE02) share nothing,
    // but 𝀂 (D834 DC02) vs 𐐂 (D801 DC02) share the low surrogate.
    expect(roundTrip("𝀂", "𐐂")).toEqual([{ d: 1 }, "𐐂"]);
  });

  it("handles repeated characters (ambiguous position) correctly", () => {
    roundTrip("aaaa", "aaaaa");
    roundTrip("abab", "ab");
  });

  it("round-trips random edits with astral characters", () => {
    const alphabet = ["a", "b", " ", "😀", "😁", "é", "𝀂", "\n"];
    let seed = 42;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const word = () => Array.from({ length: rand(8) }, () => alphabet[rand(alphabet.length)]).join("");
    for (let i = 0; i < 500; i++) {
      const before = word();
      const after = word();
      if (before !== after) roundTrip(before, after);
    }
  });
});

describe("textOpFromDiff with the caret", () => {
  it("places a repeated character where it was typed, not at the end of the run", () => {
    // "hel|lo" + "l": the caret (4) says the insert is at 3; without it the diff says 4.
    expect(textOpFromDiff("hello", "helllo")).toEqual([4, "l"]);
    expect(textOpFromDiff("hello", "helllo", 4)).toEqual([3, "l"]);
  });

  it("places a Backspace in a run at the caret", () => {
    // "aa|a" Backspace → caret 1, the second "a" went.
    expect(textOpFromDiff("aaa", "aa", 1)).toEqual([1, { d: 1 }]);
  });

  it("ignores a caret that does not explain the change (falls back to prefix/suffix)", () => {
    expect(textOpFromDiff("abc", "abXc", 0)).toEqual([2, "X"]);
    expect(textOpFromDiff("abc", "aXc", 2)).toEqual([1, { d: 1 }, "X"]);
  });

  it("never splits a surrogate pair on a caret hint", () => {
    for (let caret = 0; caret <= 6; caret++) {
      const op = textOpFromDiff("😀😀", "😀😀😀", caret);
      expect(op && textType.apply("😀😀", op)).toBe("😀😀😀");
    }
  });
});

describe("codePoints", () => {
  it("counts astral characters once", () => {
    expect(codePoints("a😀b")).toBe(3);
    expect(codePoints("")).toBe(0);
  });
});

describe("diffText", () => {
  it("reports prefix, suffix and the changed span", () => {
    expect(diffText("abcdef", "abXYef")).toEqual({ prefix: 2, suffix: 2, removed: "cd", inserted: "XY" });
  });
});

describe("transformCaret (remote change under a focused block)", () => {
  it("keeps a caret before the change", () => {
    expect(transformCaret("hello world", "hello brave world", 2)).toBe(2);
  });

  it("shifts a caret after the change by the length difference", () => {
    // remote inserted "brave " at 6; caret was at the end (11)
    expect(transformCaret("hello world", "hello brave world", 11)).toBe(17);
  });

  it("shifts back after a remote delete before the caret", () => {
    expect(transformCaret("abc def", "def", 7)).toBe(3);
  });

  it("lands at the end of replaced text when the caret was inside it", () => {
    expect(transformCaret("abcdef", "aXf", 3)).toBe(2);
  });

  it("is the identity when nothing changed", () => {
    expect(transformCaret("same", "same", 3)).toBe(3);
  });
});
