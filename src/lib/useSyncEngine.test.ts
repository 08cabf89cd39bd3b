import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type SyncTransport, TransientError } from "./syncTypes";
import { pacedFetch, pacedSocketTransport } from "./useSyncEngine";

function fakeSocketTransport(answer: boolean): SyncTransport & { calls: number[] } {
  const calls: number[] = [];
  return {
    kind: "websocket",
    calls,
    snapshot: async () => ({ mode: "replay", events: [], server_seq: 0 }),
    subscribe: () => () => {},
    async mutate() {
      calls.push(Date.now());
      return answer ? { results: [] } : new Promise(() => {});
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
    const inner = fakeSocketTransport(true);
    const paced = pacedSocketTransport(inner, 8);
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

  it("turns a mutation the server never answers into a retryable error", async () => {
    const paced = pacedSocketTransport(fakeSocketTransport(false), 8, 10_000);
    const result = paced.mutate([]).then(
      () => "answered",
      (e: unknown) => e,
    );
    await vi.advanceTimersByTimeAsync(10_001);
    const error = await result;
    expect(error).toBeInstanceOf(TransientError);
  });
});

describe("pacedFetch (SPEC §5 per-user REST limits)", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(0);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("spaces H4 snapshots (polls) at least a second apart, without holding up mutations", async () => {
    const calls: { url: string; at: number }[] = [];
    const fetch = pacedFetch(async (url) => {
      calls.push({ url, at: Date.now() });
      return new Response("{}");
    });
    const done = Promise.all([
      fetch("/api/v1/canvas/c/snapshot?since_seq=1"),
      fetch("/api/v1/canvas/c/snapshot?since_seq=2"),
      fetch("/api/v1/canvas/c/mutate", { method: "POST" }),
      fetch("/api/v1/canvas/c/snapshot?since_seq=3"),
    ]);
    await vi.advanceTimersByTimeAsync(5000);
    await done;
    const snaps = calls.filter((c) => c.url.includes("/snapshot")).map((c) => c.at);
    expect(snaps).toHaveLength(3);
    expect((snaps[1] as number) - (snaps[0] as number)).toBeGreaterThanOrEqual(1000);
    expect((snaps[2] as number) - (snaps[1] as number)).toBeGreaterThanOrEqual(1000);
    expect(calls.find((c) => c.url.endsWith("/mutate"))?.at).toBe(0);
  });
});
