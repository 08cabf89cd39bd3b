import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import type { PresenceState } from "../protocol/presence";
import type { PresenceRegistry } from "./presence";

/** One suite for both presence registries (RT-7). `make(now)` builds one with a settable clock. */
export function presenceContract(name: string, make: (now: () => number) => PresenceRegistry): void {
  describe(`presence registry contract: ${name}`, () => {
    const opened: PresenceRegistry[] = [];
    let clock = Date.now();
    const open = () => {
      const p = make(() => clock);
      opened.push(p);
      return p;
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((p) => p.close()));
      clock = Date.now();
    });

    it("RT-7: join, online and leave agree", async () => {
      const p = open();
      const canvas = randomUUID();
      const [a, b] = [randomUUID(), randomUUID()].sort();
      await p.join(canvas, a!);
      await p.join(canvas, b!);
      await p.join(canvas, a!);
      expect(await p.online(canvas)).toEqual([a, b]);
      await p.leave(canvas, a!);
      expect(await p.online(canvas)).toEqual([b]);
      expect(await p.online(randomUUID())).toEqual([]);
    });

    it("RT-7: an entry not refreshed for 60 s is gone (a dead process leaves no ghosts)", async () => {
      const p = open();
      const canvas = randomUUID();
      const user = randomUUID();
      await p.join(canvas, user);
      clock += 59_000;
      expect(await p.online(canvas)).toEqual([user]);
      clock += 2_000;
      expect(await p.online(canvas)).toEqual([]);
    });

    it("RT-10: the latest state per user is read back, null clears it, and one not set for 60 s is gone", async () => {
      const p = open();
      const canvas = randomUUID();
      const [a, b] = [randomUUID(), randomUUID()];
      const at = (x: number): PresenceState => ({ cursor: { x, y: 1 }, block_id: null, typing: false });
      p.setState(canvas, a, at(1));
      p.setState(canvas, a, at(2));
      p.setState(canvas, b, { cursor: null, block_id: canvas, typing: true });
      expect(await p.states(canvas)).toEqual(
        new Map<string, PresenceState>([
          [a, at(2)],
          [b, { cursor: null, block_id: canvas, typing: true }],
        ]),
      );
      expect(await p.states(randomUUID())).toEqual(new Map());
      p.setState(canvas, b, null);
      expect([...(await p.states(canvas)).keys()]).toEqual([a]);
      clock += 61_000;
      expect(await p.states(canvas)).toEqual(new Map());
    });
  });
}
