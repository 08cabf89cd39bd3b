import { randomUUID } from "node:crypto";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import type { BullmqQueueOptions } from "./bullmqQueue";
import { BullmqQueue } from "./bullmqQueue";
import { MemoryQueue } from "./memoryQueue";
import { silentLogger } from "./portLogger";
import type { JobQueue } from "./queue";
import { QueueUnavailableError } from "./queue";
import { CONTRACT_BACKOFF_MS, queueContract } from "./queue.contract";
import { deleteKeys, scanKeys, testPrefix, UNREACHABLE_REDIS_URL } from "./redisTestKit";

const REDIS_URL = process.env.REDIS_URL;

queueContract("memory", () => new MemoryQueue({ backoffMs: CONTRACT_BACKOFF_MS, logger: silentLogger }));

describe("memory queue", () => {
  it("forgets the oldest failed job past `keepFailed`, freeing its jobId", async () => {
    const q = new MemoryQueue({ backoffMs: 1, keepFailed: 1, logger: silentLogger });
    const runs: string[] = [];
    await q.process("q", async (job) => {
      runs.push(job.id);
      throw new Error("always");
    });
    await q.add("q", "j", {}, { jobId: "one", attempts: 1 });
    await vi.waitFor(() => expect(runs).toEqual(["one"]));
    await q.add("q", "j", {}, { jobId: "one", attempts: 1 });
    await q.add("q", "j", {}, { jobId: "two", attempts: 1 });
    await vi.waitFor(() => expect(runs).toEqual(["one", "two"]));
    await q.add("q", "j", {}, { jobId: "one", attempts: 1 });
    await vi.waitFor(() => expect(runs).toEqual(["one", "two", "one"]));
    await q.close();
  });
});

if (!REDIS_URL) console.info("skipping bullmq queue contract and bullmq queue tests: REDIS_URL unset");

describe.skipIf(!REDIS_URL)("bullmq queue", () => {
  const url = REDIS_URL ?? "";
  const prefix = testPrefix();
  const opened: JobQueue[] = [];
  const open = (opts: Partial<BullmqQueueOptions> = {}) => {
    const q = new BullmqQueue({ url, prefix, backoffMs: CONTRACT_BACKOFF_MS, logger: silentLogger, ...opts });
    opened.push(q);
    return q;
  };

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((q) => q.close()));
  });
  afterAll(async () => {
    await deleteKeys(url, prefix);
  });

  queueContract("bullmq", () => open());

  it("WRK-1: a job added by an API process runs in a separate worker process", async () => {
    const api = open();
    const worker = open();
    const name = `jobs_${randomUUID().slice(0, 8)}`;
    const seen: unknown[] = [];
    await api.add(name, "embed", { blockId: "b1" }, { jobId: "embed-b1" });
    await worker.process(name, async (job) => {
      seen.push(job.data);
    });
    await vi.waitFor(() => expect(seen).toEqual([{ blockId: "b1" }]));
    expect(await api.depth(name)).toBe(0);
  });

  it("WRK-1: no job is lost across a restart: a job stored before shutdown runs in the next process", async () => {
    const before = open();
    const name = `jobs_${randomUUID().slice(0, 8)}`;
    await before.add(name, "j", { n: 1 });
    await before.close();
    const after = open();
    expect(await after.depth(name)).toBe(1);
    const seen: unknown[] = [];
    await after.process(name, async (job) => {
      seen.push(job.data);
    });
    await vi.waitFor(() => expect(seen).toEqual([{ n: 1 }]), { timeout: 5_000 });
  });

  it("keeps its keys under the prefix", async () => {
    const q = open();
    const name = `jobs_${randomUUID().slice(0, 8)}`;
    await q.add(name, "j", {}, { delayMs: 60_000 });
    expect((await scanKeys(url, `${prefix}bull:${name}:`)).length).toBeGreaterThan(0);
  });

  it("rejects add promptly with QueueUnavailableError while Redis is unreachable, so the caller knows", async () => {
    const down = open({ url: UNREACHABLE_REDIS_URL, addTimeoutMs: 300 });
    const started = performance.now();
    await expect(down.add("jobs", "j", {})).rejects.toBeInstanceOf(QueueUnavailableError);
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});
