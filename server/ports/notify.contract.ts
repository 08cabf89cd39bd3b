import { afterEach, describe, expect, it, vi } from "vitest";
import type { Notify } from "./notify";

export interface NotifyFixture {
  notify: Notify;
  /** Sends NOTIFY from another session (PostgreSQL) or the same database (PGlite). */
  send(channel: string, payload: string): Promise<void>;
  /** Releases what the fixture opened besides `notify` (which the suite closes). */
  dispose(): Promise<void>;
}

const settle = (ms = 150) => new Promise((r) => setTimeout(r, ms));

/** The behaviour every `Notify` implementation shares. */
export function notifyContract(name: string, makeFixture: () => Promise<NotifyFixture>): void {
  describe(`notify contract: ${name}`, () => {
    const fixtures: NotifyFixture[] = [];
    const open = async () => {
      const f = await makeFixture();
      fixtures.push(f);
      return f;
    };
    afterEach(async () => {
      for (const f of fixtures.splice(0)) {
        await f.notify.close();
        await f.dispose();
      }
    });

    it("WRK-2: delivers a NOTIFY payload to every listener of its channel, exactly once", async () => {
      const { notify, send } = await open();
      const a: string[] = [];
      const b: string[] = [];
      await notify.listen("rebalance_needed", (p) => a.push(p));
      await notify.listen("rebalance_needed", (p) => b.push(p));
      await send("rebalance_needed", "canvas-1");
      await vi.waitFor(() => expect(a).toEqual(["canvas-1"]));
      await vi.waitFor(() => expect(b).toEqual(["canvas-1"]));
      await settle();
      expect(a).toEqual(["canvas-1"]);
    });

    it("does not deliver to listeners of other channels", async () => {
      const { notify, send } = await open();
      const other: string[] = [];
      const mine: string[] = [];
      await notify.listen("other_channel", (p) => other.push(p));
      await notify.listen("rebalance_needed", (p) => mine.push(p));
      await send("rebalance_needed", "x");
      await vi.waitFor(() => expect(mine).toEqual(["x"]));
      await settle();
      expect(other).toEqual([]);
    });

    it("keeps the case and punctuation of channel names (they are quoted, not folded)", async () => {
      const { notify, send } = await open();
      const upper: string[] = [];
      const lower: string[] = [];
      await notify.listen("Rebalance Needed:canvas-1", (p) => upper.push(p));
      await notify.listen("rebalance needed:canvas-1", (p) => lower.push(p));
      await send("Rebalance Needed:canvas-1", "U");
      await send("rebalance needed:canvas-1", "l");
      await vi.waitFor(() => expect(upper).toEqual(["U"]));
      await vi.waitFor(() => expect(lower).toEqual(["l"]));
    });

    it("treats a name that looks like SQL as a plain channel name", async () => {
      const { notify, send } = await open();
      const got: string[] = [];
      const sneaky = "x; SELECT pg_sleep(10); --";
      await notify.listen(sneaky, (p) => got.push(p));
      await send(sneaky, "still just a channel");
      await vi.waitFor(() => expect(got).toEqual(["still just a channel"]));
    });

    it("refuses channel names it cannot listen to faithfully", async () => {
      const { notify } = await open();
      await expect(notify.listen("", () => {})).rejects.toThrow(TypeError);
      await expect(notify.listen("a".repeat(64), () => {})).rejects.toThrow(/63 bytes/);
      await expect(notify.listen('say "hi"', () => {})).rejects.toThrow(TypeError);
      await expect(notify.listen("a".repeat(63), () => {})).resolves.toBeTypeOf("function");
    });

    it("keeps the order of notifications and carries payloads unchanged", async () => {
      const { notify, send } = await open();
      const got: string[] = [];
      await notify.listen("ordered", (p) => got.push(p));
      const sent = [...Array.from({ length: 20 }, (_, i) => `n${i}`), "", '{"canvas":"ü 🎨"}'];
      for (const p of sent) await send("ordered", p);
      await vi.waitFor(() => expect(got).toEqual(sent));
    });

    it("stops delivering after unlisten, which is idempotent and leaves other listeners alone", async () => {
      const { notify, send } = await open();
      const gone: string[] = [];
      const stays: string[] = [];
      const stop = await notify.listen("chan", (p) => gone.push(p));
      await notify.listen("chan", (p) => stays.push(p));
      await stop();
      await stop();
      await send("chan", "after");
      await vi.waitFor(() => expect(stays).toEqual(["after"]));
      await settle();
      expect(gone).toEqual([]);
    });

    it("listens again to a channel after its last listener left", async () => {
      const { notify, send } = await open();
      const first: string[] = [];
      const stop = await notify.listen("Again Chan", (p) => first.push(p));
      await stop();
      await send("Again Chan", "lost");
      const second: string[] = [];
      await notify.listen("Again Chan", (p) => second.push(p));
      await send("Again Chan", "back");
      await vi.waitFor(() => expect(second).toEqual(["back"]));
      expect(first).toEqual([]);
    });

    it("isolates a throwing handler from other handlers", async () => {
      const { notify, send } = await open();
      await notify.listen("boom", () => {
        throw new Error("handler bug");
      });
      const ok: string[] = [];
      await notify.listen("boom", (p) => ok.push(p));
      await send("boom", "m");
      await vi.waitFor(() => expect(ok).toEqual(["m"]));
    });

    it("closes idempotently, stops delivery, and rejects listen after close", async () => {
      const { notify, send } = await open();
      const got: string[] = [];
      const stop = await notify.listen("closing", (p) => got.push(p));
      await Promise.all([notify.close(), notify.close()]);
      await notify.close();
      await stop();
      await send("closing", "late");
      await settle();
      expect(got).toEqual([]);
      await expect(notify.listen("closing", () => {})).rejects.toThrow(/closed/);
    });
  });
}
