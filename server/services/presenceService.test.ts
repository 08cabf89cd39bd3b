import { describe, expect, it } from "vitest";
import type { SqlClient } from "../db/sql";
import { MemoryPresence } from "../ports/memoryPresence";
import { BLOCK_RECHECK_MS, LAST_ACTIVE_THROTTLE_S, PresenceService } from "./presenceService";

const CANVAS = "00000000-0000-4000-8000-0000000000c1";
const USER = "00000000-0000-4000-8000-0000000000a1";
const BLOCK = "00000000-0000-4000-8000-0000000000b1";
const OTHER_BLOCK = "00000000-0000-4000-8000-0000000000b2";

/** A database that answers the presence check and counts it; `live` are the canvas's blocks. */
function fakeDb(live: Set<string>) {
  const queries: unknown[][] = [];
  const db: SqlClient = {
    async query<R>(_text: string, params: readonly unknown[] = []) {
      queries.push([...params]);
      const block = params[3] as string | null;
      return [{ name: "Ada\u202e", block_ok: block === null || live.has(block) }] as R[];
    },
  };
  return { db, queries };
}

function setup(live = new Set([BLOCK, OTHER_BLOCK])) {
  let clock = Date.parse("2026-12-03T12:00:00Z");
  const { db, queries } = fakeDb(live);
  const published: { channel: string; message: Record<string, unknown> }[] = [];
  const registry = new MemoryPresence(() => clock);
  const service = new PresenceService({
    db,
    bus: {
      publish: async (channel, message) => void published.push({ channel, message: JSON.parse(message) }),
    },
    registry,
    now: () => clock,
  });
  return { service, queries, published, registry, advance: (ms: number) => (clock += ms) };
}

describe("RT-7 / RT-10: presence calls cost no query per cursor move", () => {
  it("RT-7: moves inside one block query once; a new block, the same block after 5 s, or 30 s later query again", async () => {
    const { service, queries, published } = setup();
    const move = (x: number, blockId: string | null = BLOCK) =>
      service.update({ canvasId: CANVAS, userId: USER, cursor: { x, y: 0 }, blockId });
    for (let x = 0; x < 20; x++) await move(x);
    expect(queries).toHaveLength(1);
    expect(published).toHaveLength(20);
    expect(published.at(-1)).toEqual({
      channel: `presence:${CANVAS}`,
      message: {
        type: "update",
        user_id: USER,
        name: "Ada",
        cursor: { x: 19, y: 0 },
        block_id: BLOCK,
        typing: false,
      },
    });
    await move(1, null);
    expect(queries).toHaveLength(1);
    await move(2, OTHER_BLOCK);
    expect(queries).toHaveLength(2);
    await move(3, OTHER_BLOCK);
    expect(queries).toHaveLength(2);
  });

  it("RT-7: the block is checked again after BLOCK_RECHECK_MS, and last_active_at after 30 s", async () => {
    const { service, queries, advance } = setup();
    const move = () => service.update({ canvasId: CANVAS, userId: USER, cursor: null, blockId: BLOCK });
    await move();
    advance(BLOCK_RECHECK_MS - 1);
    await move();
    expect(queries).toHaveLength(1);
    advance(1);
    await move();
    expect(queries).toHaveLength(2);
    const none = () => service.update({ canvasId: CANVAS, userId: USER, cursor: null });
    advance(LAST_ACTIVE_THROTTLE_S * 1000 - 1);
    await none();
    expect(queries).toHaveLength(2);
    advance(1);
    await none();
    expect(queries).toHaveLength(3);
  });

  it("RT-7: a block that is not the canvas's is refused, relays nothing, and is not remembered as good", async () => {
    const { service, queries, published, registry } = setup(new Set([BLOCK]));
    const bad = () => service.update({ canvasId: CANVAS, userId: USER, cursor: null, blockId: OTHER_BLOCK });
    await expect(bad()).rejects.toMatchObject({ code: "invalid_input" });
    await expect(bad()).rejects.toMatchObject({ code: "invalid_input" });
    expect(queries).toHaveLength(2);
    expect(published).toEqual([]);
    expect(await registry.states(CANVAS)).toEqual(new Map());
  });

  it("RT-10: the latest state is kept for polling clients; a leave clears it and is published", async () => {
    const { service, published, registry } = setup();
    await service.update({
      canvasId: CANVAS,
      userId: USER,
      cursor: { x: 5, y: 6 },
      blockId: BLOCK,
      typing: true,
    });
    expect(await registry.online(CANVAS)).toEqual([USER]);
    expect(await registry.states(CANVAS)).toEqual(
      new Map([[USER, { cursor: { x: 5, y: 6 }, block_id: BLOCK, typing: true }]]),
    );
    await service.leave(CANVAS, USER);
    expect(await registry.online(CANVAS)).toEqual([]);
    expect(await registry.states(CANVAS)).toEqual(new Map());
    expect(published.at(-1)?.message).toEqual({ type: "leave", user_id: USER });
    // Back again: the registry is told again (the leave forgot that it knew).
    await service.update({ canvasId: CANVAS, userId: USER, cursor: null });
    expect(await registry.online(CANVAS)).toEqual([USER]);
  });
});
