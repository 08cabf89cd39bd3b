import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { PRESENCE_SEND_INTERVAL_MS } from "./timing";
import { PresenceTracker } from "./tracker";
import type { OnlineUser, PresenceEngine, PresenceInput, PresenceUser } from "./types";
import type { VisibilitySource } from "./visibility";

const ME = { user_id: "00000000-0000-4000-8000-000000000001", name: "Me Myself" };
const ADA = { user_id: "00000000-0000-4000-8000-00000000000a", name: "Ada" };
const BO = { user_id: "00000000-0000-4000-8000-00000000000b", name: "Bo" };

class FakeEngine implements PresenceEngine {
  sent: PresenceInput[] = [];
  listeners = new Set<(event: unknown) => void>();
  sendPresence(input: PresenceInput): void {
    this.sent.push(input);
  }
  onPresence(listener: (event: unknown) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  emit(event: unknown): void {
    for (const listener of this.listeners) listener(event);
  }
}

class FakeVisibility implements VisibilitySource {
  visible = true;
  listeners = new Set<() => void>();
  isVisible = () => this.visible;
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  set(visible: boolean): void {
    this.visible = visible;
    for (const listener of this.listeners) listener();
  }
}

function setup(online: PresenceUser[] | Promise<PresenceUser[]> = []) {
  const engine = new FakeEngine();
  const visibility = new FakeVisibility();
  const tracker = new PresenceTracker({
    engine,
    me: ME,
    visibility,
    fetchOnline: () => Promise.resolve(online),
  });
  return { engine, visibility, tracker };
}

const names = (tracker: PresenceTracker) => tracker.getSnapshot().others.map((p) => p.name);
const presence = (user: PresenceUser, fields: Partial<Record<string, unknown>> = {}) => ({
  type: "presence",
  user_id: user.user_id,
  name: user.name,
  cursor: null,
  typing: false,
  block_id: null,
  ...fields,
});

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date("2026-11-26T12:00:00Z"));
});
afterEach(() => {
  vi.useRealTimers();
});

describe("RT-7 / UI-2: who is online", () => {
  it("RT-7: the initial online list seeds the others, never including me", async () => {
    const { tracker } = setup([ME, BO, ADA]);
    tracker.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(names(tracker)).toEqual(["Ada", "Bo"]);
    expect(tracker.getSnapshot().me).toMatchObject({ user_id: ME.user_id, name: "Me Myself" });
    tracker.stop();
  });

  it("RT-7: join adds, presence updates, leave removes; my own echo is ignored", async () => {
    const { engine, tracker } = setup();
    const notified = vi.fn();
    tracker.subscribe(notified);
    tracker.start();
    await vi.advanceTimersByTimeAsync(0);

    engine.emit({ type: "join", users: [ADA, ME] });
    expect(names(tracker)).toEqual(["Ada"]);
    expect(notified).toHaveBeenCalled();

    engine.emit(presence(BO, { cursor: { x: 10, y: 20 }, block_id: "b1" }));
    expect(tracker.getSnapshot().others.find((p) => p.user_id === BO.user_id)).toMatchObject({
      name: "Bo",
      cursor: { x: 10, y: 20 },
      block_id: "b1",
      typing: false,
    });

    engine.emit(presence(ME, { cursor: { x: 1, y: 1 }, block_id: "b1" }));
    expect(names(tracker)).toEqual(["Ada", "Bo"]);

    engine.emit({ type: "leave", user_id: ADA.user_id });
    expect(names(tracker)).toEqual(["Bo"]);
    tracker.stop();
  });

  it("RT-7: a leave that arrives while the online list is loading is not undone by the list", async () => {
    let resolve: (users: PresenceUser[]) => void = () => {};
    const engine = new FakeEngine();
    const tracker = new PresenceTracker({
      engine,
      me: ME,
      visibility: new FakeVisibility(),
      fetchOnline: () => new Promise((r) => (resolve = r)),
    });
    tracker.start();
    engine.emit({ type: "leave", user_id: ADA.user_id });
    resolve([ADA, BO]);
    await vi.advanceTimersByTimeAsync(0);
    expect(names(tracker)).toEqual(["Bo"]);
    tracker.stop();
  });

  it("RT-7: the list only adds; someone already heard from keeps their live cursor", async () => {
    let resolve: (users: PresenceUser[]) => void = () => {};
    const engine = new FakeEngine();
    const tracker = new PresenceTracker({
      engine,
      me: ME,
      visibility: new FakeVisibility(),
      fetchOnline: () => new Promise((r) => (resolve = r)),
    });
    tracker.start();
    engine.emit(presence(ADA, { cursor: { x: 5, y: 6 }, block_id: "b" }));
    resolve([ADA]);
    await vi.advanceTimersByTimeAsync(0);
    expect(tracker.getSnapshot().others[0]?.cursor).toEqual({ x: 5, y: 6 });
    tracker.stop();
  });

  it("RT-7: an entry not heard from for 60 s is dropped; any message keeps it", async () => {
    const { engine, tracker } = setup([ADA, BO]);
    tracker.start();
    await vi.advanceTimersByTimeAsync(0);
    await vi.advanceTimersByTimeAsync(30_000);
    engine.emit(presence(BO));
    await vi.advanceTimersByTimeAsync(60_000 - 30_000 - 1);
    expect(names(tracker)).toEqual(["Ada", "Bo"]);
    await vi.advanceTimersByTimeAsync(1);
    expect(names(tracker)).toEqual(["Bo"]);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(names(tracker)).toEqual([]);
    tracker.stop();
  });

  it("UI-2: a remote typing clears 4 s after its last typing presence; a new one extends it", async () => {
    const { engine, tracker } = setup();
    tracker.start();
    engine.emit(presence(ADA, { typing: true, block_id: "b1" }));
    expect(tracker.getSnapshot().typing.map((p) => p.name)).toEqual(["Ada"]);
    await vi.advanceTimersByTimeAsync(3_000);
    engine.emit(presence(ADA, { typing: true, block_id: "b1" }));
    await vi.advanceTimersByTimeAsync(4_000 - 1);
    expect(tracker.getSnapshot().typing).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(tracker.getSnapshot().typing).toHaveLength(0);
    expect(names(tracker)).toEqual(["Ada"]);
    tracker.stop();
  });

  it("UI-2: typing:false clears at once", () => {
    const { engine, tracker } = setup();
    tracker.start();
    engine.emit(presence(ADA, { typing: true }));
    engine.emit(presence(ADA, { typing: false }));
    expect(tracker.getSnapshot().typing).toHaveLength(0);
    tracker.stop();
  });

  it("UI-2: refresh() reloads the online list (after a reconnect)", async () => {
    const online: PresenceUser[] = [ADA];
    const engine = new FakeEngine();
    const tracker = new PresenceTracker({
      engine,
      me: ME,
      visibility: new FakeVisibility(),
      fetchOnline: () => Promise.resolve([...online]),
    });
    tracker.start();
    await vi.advanceTimersByTimeAsync(0);
    online.push(BO);
    tracker.refresh();
    await vi.advanceTimersByTimeAsync(0);
    expect(names(tracker)).toEqual(["Ada", "Bo"]);
    tracker.stop();
  });

  it("RT-7: a refreshed online list keeps a silent user (a polling client hears no presence events)", async () => {
    const { tracker } = setup([ADA]);
    tracker.start();
    await vi.advanceTimersByTimeAsync(0);
    for (let i = 0; i < 5; i++) {
      await vi.advanceTimersByTimeAsync(20_000);
      tracker.refresh();
      await vi.advanceTimersByTimeAsync(0);
    }
    expect(names(tracker)).toEqual(["Ada"]);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(names(tracker)).toEqual([]);
    tracker.stop();
  });

  it("a failed online fetch is reported, and events still work", async () => {
    const onError = vi.fn();
    const engine = new FakeEngine();
    const tracker = new PresenceTracker({
      engine,
      me: ME,
      visibility: new FakeVisibility(),
      fetchOnline: () => Promise.reject(new Error("429")),
      onError,
    });
    tracker.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(onError).toHaveBeenCalledOnce();
    engine.emit({ type: "join", users: [ADA] });
    expect(names(tracker)).toEqual(["Ada"]);
    tracker.stop();
  });
});

describe("RT-10: batched presence and polling clients", () => {
  const batch = (...users: Record<string, unknown>[]) => ({
    type: "presence",
    users: users.map((u) => ({ cursor: null, typing: false, block_id: null, ...u })),
  });

  it("RT-10: one presence frame updates every user it holds; my own entry in it is skipped", async () => {
    const { engine, tracker } = setup();
    const notified = vi.fn();
    tracker.start();
    await vi.advanceTimersByTimeAsync(0);
    tracker.subscribe(notified);
    engine.emit(
      batch(
        { ...ADA, cursor: { x: 1, y: 2 }, block_id: "b1" },
        { ...BO, typing: true, block_id: "b2" },
        { ...ME, cursor: { x: 9, y: 9 }, block_id: "b1" },
      ),
    );
    expect(notified).toHaveBeenCalledOnce();
    expect(tracker.getSnapshot().others).toMatchObject([
      { name: "Ada", cursor: { x: 1, y: 2 }, block_id: "b1", typing: false },
      { name: "Bo", cursor: null, block_id: "b2", typing: true },
    ]);
    expect(tracker.getSnapshot().typing.map((p) => p.name)).toEqual(["Bo"]);
    tracker.stop();
  });

  it("RT-10: a polling client shows the cursors and typing the online list (GET …/presence) carries, refreshed on every reload", async () => {
    const online: OnlineUser[] = [
      { ...ADA, state: { cursor: { x: 4, y: 5 }, block_id: "b1", typing: true } },
    ];
    const engine = new FakeEngine();
    const tracker = new PresenceTracker({
      engine,
      me: ME,
      visibility: new FakeVisibility(),
      fetchOnline: () => Promise.resolve(online.map((u) => ({ ...u }))),
    });
    tracker.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(tracker.getSnapshot().others).toMatchObject([
      { name: "Ada", cursor: { x: 4, y: 5 }, typing: true },
    ]);
    online[0] = { ...ADA, state: { cursor: { x: 7, y: 8 }, block_id: "b2", typing: false } };
    tracker.refresh();
    await vi.advanceTimersByTimeAsync(0);
    expect(tracker.getSnapshot().others).toMatchObject([
      { name: "Ada", cursor: { x: 7, y: 8 }, block_id: "b2", typing: false },
    ]);
    tracker.stop();
  });

  it("RT-10: a state heard live while the online list was loading is newer than the list's and is kept", async () => {
    let resolve: (users: OnlineUser[]) => void = () => {};
    const engine = new FakeEngine();
    const tracker = new PresenceTracker({
      engine,
      me: ME,
      visibility: new FakeVisibility(),
      fetchOnline: () => new Promise((r) => (resolve = r)),
    });
    tracker.start();
    await vi.advanceTimersByTimeAsync(10);
    engine.emit(batch({ ...ADA, cursor: { x: 5, y: 6 }, block_id: "b" }));
    resolve([{ ...ADA, state: { cursor: { x: 1, y: 1 }, block_id: "old", typing: false } }]);
    await vi.advanceTimersByTimeAsync(0);
    expect(tracker.getSnapshot().others[0]).toMatchObject({ cursor: { x: 5, y: 6 }, block_id: "b" });
    tracker.stop();
  });
});

describe("UI-2: sending presence", () => {
  it("UI-2: cursor moves are throttled (≤ 1 per interval, ≤ 20/s) with a trailing send of the last position", async () => {
    const { engine, tracker } = setup();
    tracker.start();
    engine.sent.length = 0; // the start announcement
    await vi.advanceTimersByTimeAsync(PRESENCE_SEND_INTERVAL_MS);
    // A pointer moving every 10 ms for one second.
    for (let i = 1; i <= 100; i++) {
      tracker.moveCursor("b1", i, i * 2);
      await vi.advanceTimersByTimeAsync(10);
    }
    await vi.advanceTimersByTimeAsync(PRESENCE_SEND_INTERVAL_MS);
    expect(engine.sent.length).toBeLessThanOrEqual(Math.ceil(1000 / PRESENCE_SEND_INTERVAL_MS) + 1);
    expect(engine.sent.length).toBeLessThanOrEqual(21);
    expect(engine.sent.length).toBeGreaterThanOrEqual(3);
    expect(engine.sent.at(-1)).toEqual({ cursor: { x: 100, y: 200 }, block_id: "b1", typing: false });
    tracker.stop();
  });

  it("UI-2: no two sends are closer than the interval", async () => {
    const { engine, tracker } = setup();
    const times: number[] = [];
    engine.sendPresence = (input) => {
      engine.sent.push(input);
      times.push(Date.now());
    };
    tracker.start();
    for (let i = 0; i < 300; i++) {
      tracker.moveCursor("b1", i, 0);
      if (i % 7 === 0) tracker.typing("b1");
      await vi.advanceTimersByTimeAsync(3);
    }
    for (let i = 1; i < times.length; i++)
      expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(PRESENCE_SEND_INTERVAL_MS);
    tracker.stop();
  });

  it("UI-2: typing sends typing:true at most every 2 s while typing, and typing:false 2 s after the last keystroke", async () => {
    const { engine, tracker } = setup();
    tracker.start();
    await vi.advanceTimersByTimeAsync(PRESENCE_SEND_INTERVAL_MS);
    engine.sent.length = 0;
    // Keystrokes every 100 ms for 5 s.
    for (let i = 0; i < 50; i++) {
      tracker.typing("b1");
      await vi.advanceTimersByTimeAsync(100);
    }
    const typingTrue = engine.sent.filter((s) => s.typing === true);
    expect(typingTrue.length).toBeGreaterThanOrEqual(3); // t≈0, 2 s, 4 s
    expect(typingTrue.length).toBeLessThanOrEqual(3);
    expect(engine.sent.every((s) => s.typing === true && s.block_id === "b1")).toBe(true);
    engine.sent.length = 0;
    await vi.advanceTimersByTimeAsync(2_000 - 100 - 1);
    expect(engine.sent).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(engine.sent).toEqual([{ cursor: null, block_id: "b1", typing: false }]);
    tracker.stop();
  });

  it("UI-2: typing in another block than the pointer's drops the (block-relative) cursor", async () => {
    const { engine, tracker } = setup();
    tracker.start();
    tracker.moveCursor("b1", 4, 5);
    await vi.advanceTimersByTimeAsync(PRESENCE_SEND_INTERVAL_MS);
    tracker.typing("b2");
    await vi.advanceTimersByTimeAsync(PRESENCE_SEND_INTERVAL_MS);
    expect(engine.sent.at(-1)).toEqual({ cursor: null, block_id: "b2", typing: true });
    tracker.stop();
  });

  it("UI-2: clear() sends cursor:null on pointer leave", async () => {
    const { engine, tracker } = setup();
    tracker.start();
    tracker.moveCursor("b1", 4, 5);
    await vi.advanceTimersByTimeAsync(PRESENCE_SEND_INTERVAL_MS);
    tracker.clear();
    await vi.advanceTimersByTimeAsync(PRESENCE_SEND_INTERVAL_MS);
    expect(engine.sent.at(-1)).toEqual({ cursor: null, block_id: null, typing: false });
    tracker.stop();
  });

  it("RT-7: a heartbeat at least every 20 s while visible, repeating the whole state", async () => {
    const { engine, tracker } = setup();
    tracker.start();
    tracker.moveCursor("b1", 7, 8);
    await vi.advanceTimersByTimeAsync(PRESENCE_SEND_INTERVAL_MS);
    const before = engine.sent.length;
    await vi.advanceTimersByTimeAsync(20_000 * 3);
    expect(engine.sent.length - before).toBe(3);
    // The server turns an omitted cursor into null: a heartbeat must repeat it.
    expect(engine.sent.at(-1)).toEqual({ cursor: { x: 7, y: 8 }, block_id: "b1", typing: false });
    tracker.stop();
  });

  it("RT-7: no heartbeat while the page is hidden; an immediate one when it is visible again", async () => {
    const { engine, tracker, visibility } = setup();
    tracker.start();
    visibility.set(false);
    const before = engine.sent.length;
    await vi.advanceTimersByTimeAsync(20_000 * 4);
    expect(engine.sent.length).toBe(before);
    visibility.set(true);
    expect(engine.sent.length).toBe(before + 1);
    tracker.stop();
  });

  it("RT-7: announce() re-sends the whole state (once the transport is connected)", async () => {
    const { engine, tracker } = setup();
    tracker.start();
    tracker.moveCursor("b1", 1, 2);
    await vi.advanceTimersByTimeAsync(PRESENCE_SEND_INTERVAL_MS);
    const before = engine.sent.length;
    tracker.announce();
    await vi.advanceTimersByTimeAsync(PRESENCE_SEND_INTERVAL_MS);
    expect(engine.sent.length).toBe(before + 1);
    expect(engine.sent.at(-1)).toEqual({ cursor: { x: 1, y: 2 }, block_id: "b1", typing: false });
    tracker.stop();
  });

  it("stop() clears our cursor for the others, unsubscribes, and leaves no timer behind", async () => {
    const { engine, tracker } = setup([ADA]);
    tracker.start();
    await vi.advanceTimersByTimeAsync(0);
    tracker.moveCursor("b1", 1, 1);
    tracker.moveCursor("b1", 2, 2);
    tracker.typing("b1");
    engine.emit(presence(BO, { typing: true }));
    tracker.stop();
    expect(engine.sent.at(-1)).toEqual({ cursor: null, block_id: null, typing: false });
    expect(engine.listeners.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    expect(tracker.getSnapshot().others).toEqual([]);
    const count = engine.sent.length;
    tracker.moveCursor("b1", 3, 3);
    tracker.typing("b1");
    await vi.advanceTimersByTimeAsync(20_000 * 2);
    expect(engine.sent.length).toBe(count);
    tracker.stop(); // idempotent
  });

  it("start() after stop() works again (React strict mode mounts twice)", async () => {
    const { engine, tracker } = setup([ADA]);
    tracker.start();
    tracker.stop();
    tracker.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(names(tracker)).toEqual(["Ada"]);
    expect(engine.listeners.size).toBe(1);
    tracker.stop();
  });
});
