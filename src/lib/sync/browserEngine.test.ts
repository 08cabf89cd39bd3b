import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { SyncTransport } from "../syncTypes";
import { pacedSocketTransport } from "./browserEngine";
import { Pacer } from "./pacer";

function fakeSocketTransport(): SyncTransport & { calls: number[] } {
  const calls: number[] = [];
  return {
    kind: "websocket",
    calls,
    snapshot: async () => ({ mode: "replay", events: [], server_seq: 0 }),
    subscribe: () => () => {},
    async mutate() {
      calls.push(Date.now());
      return { results: [] };
    },
    async presence() {
      calls.push(Date.now());
    },
  };
}

describe("pacedSocketTransport (RT-6: 10 messages/s per socket)", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(0);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("never sends more than the allowed messages in any second, mutations and presence together", async () => {
    const inner = fakeSocketTransport();
    const paced = pacedSocketTransport(inner, new Pacer({ H1: { kind: "window", max: 8, windowMs: 1000 } }));
    const done = Promise.all([
      ...Array.from({ length: 14 }, () => paced.mutate([])),
      ...Array.from({ length: 6 }, () => paced.presence({ typing: true })),
    ]);
    await vi.advanceTimersByTimeAsync(5000);
    await done;
    expect(inner.calls).toHaveLength(20);
    for (const t of inner.calls) {
      expect(inner.calls.filter((u) => u >= t && u < t + 1000).length).toBeLessThanOrEqual(8);
    }
    // …and it does not dawdle: 20 messages at 8/s fit in under 3 seconds.
    expect(Math.max(...inner.calls)).toBeLessThan(3000);
  });
});
