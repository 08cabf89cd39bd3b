import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { BusHandler } from "../ports/bus";
import type { PresenceEntry } from "../protocol/presence";
import { presenceInterval } from "./presenceBatch";
import { PRESENCE_BACKLOG_BYTES, type PresenceReceiver, PresenceRoom } from "./presenceRoom";

const CANVAS = "00000000-0000-4000-8000-0000000000c1";

interface FakeReceiver extends PresenceReceiver {
  socket: { bufferedAmount: number };
  /** Presence frames (tick): when, the event, and the buffer itself. */
  frames: { at: number; event: { type: string; users: PresenceEntry[] }; buffer: Buffer }[];
  /** Join / leave, sent at once. */
  plain: { at: number; event: { type: string } }[];
}

function receiver(userId: string, head = '{"id":1,"result":{"type":"data",'): FakeReceiver {
  const r: FakeReceiver = {
    userId,
    head,
    socket: { bufferedAmount: 0 },
    frames: [],
    plain: [],
    sendPlain: (json) => r.plain.push({ at: Date.now(), event: JSON.parse(json) }),
  };
  return r;
}

function setup(receivers: FakeReceiver[]) {
  let handler: BusHandler = () => {};
  const calls: string[] = [];
  let announced: (() => void) | null = null;
  const room = new PresenceRoom<FakeReceiver>(CANVAS, {
    presence: {
      connected: async (_c, u) => void calls.push(`connected ${u}`),
      disconnected: async (_c, u) => void calls.push(`disconnected ${u}`),
      announce: (_c, users) => {
        calls.push(`announce ${users.join(",")} started`);
        return new Promise<void>((resolve) => {
          announced = () => {
            calls.push(`announce ${users.join(",")} done`);
            resolve();
          };
        });
      },
    },
    bus: {
      subscribe: async (_channel, h) => {
        handler = h;
        return async () => {};
      },
    },
    receivers: () => receivers,
    users: () => [],
    send: (r, buffer) => {
      const json = buffer.toString();
      const event = JSON.parse(json.slice(r.head.length + '"data":'.length, -2));
      r.frames.push({ at: Date.now(), event, buffer });
    },
    onError: (error) => {
      throw error;
    },
  });
  const bus = (message: unknown) => handler(JSON.stringify(message));
  const move = (user_id: string, x: number) =>
    bus({
      type: "update",
      user_id,
      name: user_id.toUpperCase(),
      cursor: { x, y: 0 },
      block_id: null,
      typing: false,
    });
  return { room, bus, move, calls, finishAnnounce: () => announced?.() };
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date("2026-12-03T12:00:00Z"));
});
afterEach(() => vi.useRealTimers());

/** The latest cursor x of every user, as a receiver's frames say. */
function lastSeen(r: FakeReceiver): Record<string, number | undefined> {
  const out: Record<string, number | undefined> = {};
  for (const f of r.frames) for (const u of f.event.users) out[u.user_id] = u.cursor?.x;
  return out;
}

describe("RT-10: presence is batched per receiver", () => {
  it("RT-10: a burst of cursor moves from three users reaches each receiver as at most one frame per 50 ms, holding the latest state of each", async () => {
    const receivers = [receiver("a"), receiver("w1"), receiver("w2")];
    const { room, move } = setup(receivers);
    await room.open();
    // 40 moves per user over 200 ms, interleaved.
    for (let x = 0; x < 40; x++) {
      for (const user of ["a", "b", "c"]) move(user, x);
      await vi.advanceTimersByTimeAsync(5);
    }
    await vi.advanceTimersByTimeAsync(500);
    for (const r of receivers) {
      const gaps = r.frames.slice(1).map((f, i) => f.at - r.frames[i]!.at);
      expect(gaps.every((g) => g >= 50)).toBe(true);
      expect(r.frames.length).toBeLessThanOrEqual(200 / 50 + 1);
      // One entry per user in a frame, and what is seen last is each user's last move.
      for (const f of r.frames)
        expect(new Set(f.event.users.map((u) => u.user_id)).size).toBe(f.event.users.length);
      expect(lastSeen(r)).toEqual({ a: 39, b: 39, c: 39 });
    }
    await room.close();
  });

  it("RT-10: the frame is serialised once per tick and shared by every subscription with the same envelope", async () => {
    const receivers = [receiver("w1"), receiver("w2"), receiver("w3", '{"id":7,"result":{"type":"data",')];
    const { room, move } = setup(receivers);
    await room.open();
    move("a", 1);
    await vi.advanceTimersByTimeAsync(60);
    const [b1, b2, b3] = receivers.map((r) => r.frames[0]!.buffer);
    expect(b1).toBe(b2);
    expect(b3).not.toBe(b1);
    expect(receivers[2]!.frames[0]!.event.users).toHaveLength(1);
    await room.close();
  });

  it("RT-10: a receiver is not sent a frame holding nothing but its own state", async () => {
    const mover = receiver("a");
    const watcher = receiver("w");
    const { room, move } = setup([mover, watcher]);
    await room.open();
    move("a", 1);
    await vi.advanceTimersByTimeAsync(60);
    expect(mover.frames).toHaveLength(0);
    expect(watcher.frames).toHaveLength(1);
    move("a", 2);
    move("b", 3);
    await vi.advanceTimersByTimeAsync(60);
    expect(mover.frames.map((f) => f.event.users.map((u) => u.user_id))).toEqual([["a", "b"]]);
    await room.close();
  });

  it("RT-10: join and leave go out at once and are never dropped; a leave drops the user's queued state", async () => {
    const receivers = [receiver("w1"), receiver("w2")];
    const { room, bus, move } = setup(receivers);
    await room.open();
    move("a", 1);
    bus({ type: "leave", user_id: "a" });
    bus({ type: "join", users: [{ user_id: "b", name: "B" }] });
    for (const r of receivers) expect(r.plain.map((p) => p.event.type)).toEqual(["leave", "join"]);
    await vi.advanceTimersByTimeAsync(200);
    // a's move was queued before the leave: it must not bring a back.
    for (const r of receivers) expect(r.frames).toEqual([]);
    // Even a receiver whose buffer is backed up gets them.
    receivers[0]!.socket.bufferedAmount = PRESENCE_BACKLOG_BYTES + 1;
    bus({ type: "leave", user_id: "b" });
    expect(receivers[0]!.plain.map((p) => p.event.type)).toEqual(["leave", "join", "leave"]);
    await room.close();
  });

  it("RT-10: a receiver with a backed-up send buffer skips ticks (nothing piles in front of its ops), then gets everyone's latest state at once", async () => {
    const slow = receiver("slow");
    const fast = receiver("fast");
    const { room, move } = setup([slow, fast]);
    await room.open();
    slow.socket.bufferedAmount = PRESENCE_BACKLOG_BYTES + 1;
    move("a", 1);
    await vi.advanceTimersByTimeAsync(60);
    move("b", 2);
    await vi.advanceTimersByTimeAsync(60);
    expect(slow.frames).toHaveLength(0);
    expect(fast.frames).toHaveLength(2);
    // Drained: the next tick brings it up to date, although only a moved since.
    slow.socket.bufferedAmount = 0;
    move("a", 3);
    await vi.advanceTimersByTimeAsync(60);
    expect(slow.frames.map((f) => f.event.users.map((u) => [u.user_id, u.cursor?.x]))).toEqual([
      [
        ["a", 3],
        ["b", 2],
      ],
    ]);
    expect(fast.frames.at(-1)!.event.users.map((u) => u.user_id)).toEqual(["a"]);
    // A receiver that drains after the last move still gets the state it missed.
    slow.socket.bufferedAmount = PRESENCE_BACKLOG_BYTES + 1;
    move("b", 4);
    await vi.advanceTimersByTimeAsync(60);
    slow.socket.bufferedAmount = 0;
    await vi.advanceTimersByTimeAsync(60);
    expect(lastSeen(slow)).toEqual({ a: 3, b: 4 });
    await room.close();
  });

  it("RT-10: a big frame stretches the next tick (presence stays within its byte budget)", async () => {
    const watcher = receiver("w");
    const { room, move } = setup([watcher]);
    await room.open();
    for (let u = 0; u < 400; u++) move(`user-${String(u).padStart(4, "0")}`, u);
    await vi.advanceTimersByTimeAsync(60);
    expect(watcher.frames).toHaveLength(1);
    const wait = presenceInterval(watcher.frames[0]!.buffer.length, 1);
    expect(wait).toBeGreaterThan(50);
    move("user-0000", -1);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(watcher.frames).toHaveLength(2);
    expect(watcher.frames[1]!.at - watcher.frames[0]!.at).toBeGreaterThanOrEqual(wait - 1);
    await room.close();
  });

  it("RT-10: a user who leaves while their join is being gathered is announced, then leaves: neither is dropped", async () => {
    const { room, calls, finishAnnounce } = setup([]);
    await room.open();
    room.userJoined("a");
    room.userJoined("b");
    room.userLeft("a");
    await vi.advanceTimersByTimeAsync(0);
    finishAnnounce();
    await vi.advanceTimersByTimeAsync(500);
    expect(calls).toEqual([
      "connected a",
      "connected b",
      "announce a,b started",
      "announce a,b done",
      "disconnected a",
    ]);
    await room.close();
  });

  it("RT-7: registry writes and announcements keep their order: a leave never overtakes its join", async () => {
    const { room, calls, finishAnnounce } = setup([]);
    await room.open();
    room.userJoined("a");
    await vi.advanceTimersByTimeAsync(250);
    expect(calls).toEqual(["connected a", "announce a started"]);
    room.userLeft("a");
    await vi.advanceTimersByTimeAsync(1_000);
    expect(calls).toEqual(["connected a", "announce a started"]);
    finishAnnounce();
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toEqual(["connected a", "announce a started", "announce a done", "disconnected a"]);
    await room.close();
  });
});
