import { describe, expect, it } from "vitest";
import { MAX_REPLAY_EVENTS, replayIsComplete } from "./replay";

const chain = (from: number, n: number) =>
  Array.from({ length: n }, (_, i) => ({
    server_seq: from + i + 1,
    prev_seq: from + i === 0 ? null : from + i,
  }));

describe("replayIsComplete (RT-5)", () => {
  it("RT-5: a replay is complete when it chains onto since_seq and reaches the head", () => {
    expect(replayIsComplete(0, chain(0, 3), 3)).toBe(true);
    expect(replayIsComplete(5, chain(5, 2), 7)).toBe(true);
    // since_seq between applied ops (a conflict's seq): the first op chains back to below it.
    expect(replayIsComplete(6, [{ server_seq: 8, prev_seq: 5 }], 8)).toBe(true);
    expect(replayIsComplete(4, [], 4)).toBe(true);
  });

  it("RT-5: pruned, short of the head, ahead of it or too long is not complete (resync)", () => {
    expect(replayIsComplete(2, [{ server_seq: 9, prev_seq: 8 }], 9)).toBe(false);
    expect(replayIsComplete(5, chain(5, 2), 9)).toBe(false);
    expect(replayIsComplete(3, [], 5)).toBe(false);
    expect(replayIsComplete(9, [], 5)).toBe(false);
    expect(replayIsComplete(0, chain(0, MAX_REPLAY_EVENTS + 1), MAX_REPLAY_EVENTS + 1)).toBe(false);
    expect(replayIsComplete(0, chain(0, MAX_REPLAY_EVENTS), MAX_REPLAY_EVENTS)).toBe(true);
  });
});
