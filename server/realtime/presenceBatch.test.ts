import { describe, expect, it } from "vitest";
import type { PresenceEntry } from "../protocol/presence";
import {
  MAX_PRESENCE_TICK_MS,
  PRESENCE_TICK_MS,
  PresenceBatch,
  presenceInterval,
  RECEIVER_PRESENCE_BYTES_PER_S,
  ROOM_PRESENCE_BYTES_PER_S,
} from "./presenceBatch";

const entry = (user_id: string, x: number, typing = false): PresenceEntry => ({
  user_id,
  name: user_id.toUpperCase(),
  cursor: { x, y: 0 },
  block_id: null,
  typing,
});

const usersOf = (json: string) => (JSON.parse(json) as { users: PresenceEntry[] }).users;

describe("RT-10: the presence coalescer", () => {
  it("RT-10: a take holds every user that changed since the last, once each, with the latest state", () => {
    const batch = new PresenceBatch();
    for (let x = 0; x < 10; x++) {
      batch.set(entry("a", x));
      batch.set(entry("b", 100 + x, x % 2 === 0));
    }
    expect(batch.pending).toBe(true);
    const frame = batch.take()!;
    expect(frame.users).toEqual(["a", "b"]);
    expect(JSON.parse(frame.json)).toEqual({
      type: "presence",
      users: [
        { user_id: "a", name: "A", cursor: { x: 9, y: 0 }, block_id: null, typing: false },
        { user_id: "b", name: "B", cursor: { x: 109, y: 0 }, block_id: null, typing: false },
      ],
    });
    expect(batch.pending).toBe(false);
    expect(batch.take()).toBeNull();
    batch.set(entry("b", 7));
    expect(usersOf(batch.take()!.json).map((u) => [u.user_id, u.cursor?.x])).toEqual([["b", 7]]);
  });

  it("RT-10: a leave drops the user's queued state, so it is never sent after the leave", () => {
    const batch = new PresenceBatch();
    batch.set(entry("a", 1));
    batch.set(entry("b", 2));
    batch.drop("a");
    expect(batch.take()!.users).toEqual(["b"]);
    batch.drop("b");
    expect(batch.pending).toBe(false);
    expect(batch.full()).toBeNull();
  });

  it("RT-10: full() holds every user's latest state (for a receiver that skipped ticks)", () => {
    const batch = new PresenceBatch();
    batch.set(entry("a", 1));
    batch.set(entry("b", 2));
    batch.take();
    batch.set(entry("a", 3));
    expect(usersOf(batch.full()!.json).map((u) => [u.user_id, u.cursor?.x])).toEqual([
      ["a", 3],
      ["b", 2],
    ]);
  });

  it("RT-7: full() forgets a state not renewed for 60 s (someone gone without a leave)", () => {
    let clock = 0;
    const batch = new PresenceBatch(() => clock);
    batch.set(entry("a", 1));
    clock = 30_000;
    batch.set(entry("b", 2));
    clock = 60_001;
    expect(batch.full()!.users).toEqual(["b"]);
    clock = 90_001;
    expect(batch.full()).toBeNull();
  });

  it("RT-10: ticks are 50 ms apart unless a frame is big for one receiver or for the room's process", () => {
    expect(presenceInterval(2_000, 10)).toBe(PRESENCE_TICK_MS);
    // One receiver's budget: a 32 KiB frame every 250 ms is 128 KiB/s.
    expect(presenceInterval(RECEIVER_PRESENCE_BYTES_PER_S / 4, 1)).toBe(250);
    // The room's: 1,000 receivers of a 16 KiB frame.
    expect(presenceInterval(16 * 1024, 1_000)).toBe(
      Math.ceil((16 * 1024 * 1_000 * 1_000) / ROOM_PRESENCE_BYTES_PER_S),
    );
    expect(presenceInterval(10 * 1024 * 1024, 1_000)).toBe(MAX_PRESENCE_TICK_MS);
    // At most 20 frames a second per receiver, whatever the room.
    for (const [bytes, n] of [
      [100, 1],
      [8_000, 300],
      [16_000, 1_000],
    ] as const)
      expect(1000 / presenceInterval(bytes, n)).toBeLessThanOrEqual(20);
  });
});
