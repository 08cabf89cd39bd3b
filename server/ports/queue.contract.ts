import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Job, JobQueue } from "./queue";

/** Factories given to `queueContract` must build their queue with this retry backoff. */
export const CONTRACT_BACKOFF_MS = 50;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A gate a handler can wait on, so a test controls when a job finishes. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => {
    open = r;
  });
  return { open, opened };
}

/** The behaviour every `JobQueue` implementation shares. */
export function queueContract(name: string, makeQueue: () => JobQueue | Promise<JobQueue>): void {
  describe(`queue contract: ${name}`, () => {
    const opened: JobQueue[] = [];
    const open = async () => {
      const q = await makeQueue();
      opened.push(q);
      return q;
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((q) => q.close()));
    });
    // One queue name per test keeps tests apart on a shared Redis prefix.
    const qname = () => `jobs_${randomUUID().slice(0, 8)}`;

    it("WRK-1: runs an added job with its id, name and data, as attempt 1", async () => {
      const q = await open();
      const name = qname();
      const seen: Job[] = [];
      await q.process(name, async (job) => {
        seen.push(job);
      });
      await q.add(name, "embed", { blockId: "b1", text: "hi" }, { jobId: "embed-b1" });
      await q.add(name, "embed", { blockId: "b2" });
      await vi.waitFor(() => expect(seen).toHaveLength(2));
      expect(seen[0]).toEqual({
        id: "embed-b1",
        name: "embed",
        data: { blockId: "b1", text: "hi" },
        attempt: 1,
      });
      expect(seen[1]?.id).toMatch(/.+/);
      expect(seen[1]?.id).not.toBe("embed-b1");
    });

    it("passes data as JSON: the handler never shares objects with the producer", async () => {
      const q = await open();
      const name = qname();
      const seen: unknown[] = [];
      const data = { at: new Date(0), list: [1, 2] };
      await q.add(name, "j", data);
      data.list.push(3);
      await q.process(name, async (job) => {
        seen.push(job.data);
      });
      await vi.waitFor(() => expect(seen).toEqual([{ at: "1970-01-01T00:00:00.000Z", list: [1, 2] }]));
    });

    it("WRK-1: retries a failing handler with increasing attempt numbers until it succeeds", async () => {
      const q = await open();
      const name = qname();
      const attempts: number[] = [];
      let done = false;
      await q.process(name, async (job) => {
        attempts.push(job.attempt);
        if (job.attempt < 3) throw new Error("provider down");
        done = true;
      });
      await q.add(name, "j", {});
      await vi.waitFor(() => expect(done).toBe(true), { timeout: 10_000 });
      expect(attempts).toEqual([1, 2, 3]);
    });

    it("waits an exponentially growing backoff between attempts", async () => {
      const q = await open();
      const name = qname();
      const at: number[] = [];
      await q.process(name, async () => {
        at.push(performance.now());
        throw new Error("always");
      });
      await q.add(name, "j", {}, { attempts: 3 });
      await vi.waitFor(() => expect(at).toHaveLength(3), { timeout: 10_000 });
      const [a, b, c] = at as [number, number, number];
      // Small tolerance: timers may fire a millisecond early.
      expect(b - a).toBeGreaterThanOrEqual(CONTRACT_BACKOFF_MS - 5);
      expect(c - b).toBeGreaterThanOrEqual(2 * CONTRACT_BACKOFF_MS - 5);
    });

    it("stops after `attempts` runs and keeps the job out of the depth afterwards", async () => {
      const q = await open();
      const name = qname();
      let runs = 0;
      await q.process(name, async () => {
        runs++;
        throw new Error("always");
      });
      await q.add(name, "j", {}, { attempts: 2 });
      await vi.waitFor(() => expect(runs).toBe(2), { timeout: 10_000 });
      await sleep(4 * CONTRACT_BACKOFF_MS);
      expect(runs).toBe(2);
      expect(await q.depth(name)).toBe(0);
    });

    it("defaults to 5 attempts", async () => {
      const q = await open();
      const name = qname();
      let runs = 0;
      await q.process(name, async () => {
        runs++;
        throw new Error("always");
      });
      await q.add(name, "j", {});
      await vi.waitFor(() => expect(runs).toBe(5), { timeout: 15_000 });
      await sleep(20 * CONTRACT_BACKOFF_MS);
      expect(runs).toBe(5);
    });

    it("dedupes by jobId while the job is waiting, delayed or running, and accepts it again once done", async () => {
      const q = await open();
      const name = qname();
      const runs: string[] = [];
      const release = gate();
      await q.add(name, "first", {}, { jobId: "same" });
      await q.add(name, "dup-waiting", {}, { jobId: "same" });
      await q.process(name, async (job) => {
        runs.push(job.name);
        if (job.name === "first") await release.opened;
      });
      await vi.waitFor(() => expect(runs).toEqual(["first"]));
      await q.add(name, "dup-running", {}, { jobId: "same" });
      release.open();
      await vi.waitFor(async () => expect(await q.depth(name)).toBe(0));
      await q.add(name, "again", {}, { jobId: "same" });
      await vi.waitFor(() => expect(runs).toEqual(["first", "again"]));
    });

    it("holds a delayed job back until its delay has passed", async () => {
      const q = await open();
      const name = qname();
      const ran: number[] = [];
      await q.process(name, async () => {
        ran.push(performance.now());
      });
      const added = performance.now();
      await q.add(name, "later", {}, { delayMs: 400 });
      await sleep(150);
      expect(ran).toEqual([]);
      expect(await q.depth(name)).toBe(1);
      await vi.waitFor(() => expect(ran).toHaveLength(1), { timeout: 5_000 });
      expect((ran[0] ?? 0) - added).toBeGreaterThanOrEqual(395);
    });

    it("OPS-1: depth counts waiting, delayed and active jobs, and stops counting finished ones", async () => {
      const q = await open();
      const name = qname();
      expect(await q.depth(name)).toBe(0);
      await q.add(name, "a", {});
      await q.add(name, "b", {});
      await q.add(name, "c", {}, { delayMs: 60_000, jobId: "far-future" });
      expect(await q.depth(name)).toBe(3);
      const release = gate();
      let started = 0;
      await q.process(name, async () => {
        started++;
        await release.opened;
      });
      await vi.waitFor(() => expect(started).toBe(1));
      expect(await q.depth(name)).toBe(3); // one active, one waiting, one delayed
      release.open();
      await vi.waitFor(async () => expect(await q.depth(name)).toBe(1));
    });

    it("runs at most `concurrency` jobs at once, and reaches that many", async () => {
      const q = await open();
      const name = qname();
      let running = 0;
      let peak = 0;
      let done = 0;
      await q.process(
        name,
        async () => {
          running++;
          peak = Math.max(peak, running);
          await sleep(150);
          running--;
          done++;
        },
        { concurrency: 3 },
      );
      for (let i = 0; i < 7; i++) await q.add(name, "j", { i });
      await vi.waitFor(() => expect(done).toBe(7), { timeout: 10_000 });
      expect(peak).toBe(3);
    });

    it("runs one job at a time by default", async () => {
      const q = await open();
      const name = qname();
      let running = 0;
      let peak = 0;
      let done = 0;
      await q.process(name, async () => {
        running++;
        peak = Math.max(peak, running);
        await sleep(30);
        running--;
        done++;
      });
      for (let i = 0; i < 4; i++) await q.add(name, "j", { i });
      await vi.waitFor(() => expect(done).toBe(4), { timeout: 10_000 });
      expect(peak).toBe(1);
    });

    it("keeps queues apart", async () => {
      const q = await open();
      const [one, two] = [qname(), qname()];
      const seen: string[] = [];
      await q.process(one, async (job) => {
        seen.push(job.name);
      });
      await q.add(two, "other-queue", {});
      await q.add(one, "mine", {});
      await vi.waitFor(() => expect(seen).toEqual(["mine"]));
      await sleep(100);
      expect(seen).toEqual(["mine"]);
      expect(await q.depth(two)).toBe(1);
    });

    it("rejects what BullMQ rejects, in both implementations", async () => {
      const q = await open();
      const name = qname();
      await expect(q.add(name, "j", {}, { jobId: "42" })).rejects.toThrow(/integer/);
      await expect(q.add(name, "j", {}, { jobId: "a:b" })).rejects.toThrow(/':'/);
      await expect(q.add("bad:name", "j", {})).rejects.toThrow(/queue name/);
      await expect(q.add(name, "j", {}, { delayMs: -1 })).rejects.toThrow(RangeError);
      await expect(q.add(name, "j", {}, { attempts: 0 })).rejects.toThrow(RangeError);
      await expect(q.add(name, "j", undefined)).rejects.toThrow(/JSON/);
      await expect(q.process(name, async () => {}, { concurrency: 0 })).rejects.toThrow(RangeError);
      expect(await q.depth(name)).toBe(0);
    });

    it("allows one consumer per queue per instance", async () => {
      const q = await open();
      const name = qname();
      await q.process(name, async () => {});
      await expect(q.process(name, async () => {})).rejects.toThrow(/already has a consumer/);
    });

    it("OPS-5: close waits for running handlers, is idempotent, and rejects use afterwards", async () => {
      const q = await open();
      const name = qname();
      let finished = false;
      const started = gate();
      await q.process(name, async () => {
        started.open();
        await sleep(200);
        finished = true;
      });
      await q.add(name, "j", {});
      await started.opened;
      await Promise.all([q.close(), q.close()]);
      expect(finished).toBe(true);
      await q.close();
      await expect(q.add(name, "j", {})).rejects.toThrow(/closed/);
      await expect(q.process(qname(), async () => {})).rejects.toThrow(/closed/);
    });
  });
}
