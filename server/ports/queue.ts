/**
 * Background jobs (WRK-1: `embedding_jobs`). Two implementations with one interface:
 * `memoryQueue.ts` (single-node, in-process) and `bullmqQueue.ts` (production, BullMQ on
 * Redis). Both run through `queue.contract.ts`.
 *
 * Semantics both keep: at-least-once delivery; a failing handler is retried with exponential
 * backoff (`backoffMs · 2^(attempt-1)`) up to `attempts` runs; a job that used them all is kept
 * as failed (not silently dropped); a `jobId` that is waiting, delayed, active or failed is not
 * added again, while one that completed may be. `data` travels as JSON (as with BullMQ).
 * The memory queue lives and dies with its process: single-node only.
 */
export interface Job {
  id: string;
  name: string;
  data: unknown;
  /** 1 on the first run, 2 on the first retry, … */
  attempt: number;
}

export type JobHandler = (job: Job) => Promise<void>;

export interface AddOptions {
  /** Dedupe key. BullMQ rules apply to both twins: not an integer, no `:`. */
  jobId?: string;
  delayMs?: number;
  /** Total runs before the job is kept as failed (default 5). */
  attempts?: number;
}

export interface ProcessOptions {
  /** Jobs of this queue run at once in this process (default 1). */
  concurrency?: number;
}

export interface JobQueue {
  readonly kind: "memory" | "bullmq";
  add(queue: string, name: string, data: unknown, opts?: AddOptions): Promise<void>;
  /** Starts this process's consumer of `queue`; one per queue per instance. */
  process(queue: string, handler: JobHandler, opts?: ProcessOptions): Promise<void>;
  /** Jobs not finished yet: waiting + delayed (including retries) + active. */
  depth(queue: string): Promise<number>;
  /** Stops taking jobs, waits for running handlers, releases timers and connections. */
  close(): Promise<void>;
}

export const DEFAULT_ATTEMPTS = 5;
export const DEFAULT_BACKOFF_MS = 1_000;

export class QueueClosedError extends Error {
  constructor() {
    super("queue is closed");
    this.name = "QueueClosedError";
  }
}

/** `add` could not store the job (the backing store is unreachable); nothing was enqueued. */
export class QueueUnavailableError extends Error {
  constructor(detail: string) {
    super(`queue unavailable: ${detail}`);
    this.name = "QueueUnavailableError";
  }
}

/** Rejects what BullMQ would reject, so single-node mode fails the same way production does. */
export function validateAdd(queue: string, data: unknown, opts: AddOptions): void {
  validateQueueName(queue);
  const { jobId, delayMs, attempts } = opts;
  if (jobId !== undefined) {
    if (jobId === "") throw new TypeError("jobId must not be empty");
    if (`${Number.parseInt(jobId, 10)}` === jobId) throw new TypeError("jobId must not be an integer");
    if (jobId.includes(":")) throw new TypeError("jobId must not contain ':'");
  }
  if (delayMs !== undefined && !(Number.isFinite(delayMs) && delayMs >= 0)) {
    throw new RangeError("delayMs must be a non-negative number");
  }
  if (attempts !== undefined && !(Number.isInteger(attempts) && attempts >= 1)) {
    throw new RangeError("attempts must be a positive integer");
  }
  if (data === undefined || JSON.stringify(data) === undefined) {
    throw new TypeError("job data must be JSON-serialisable");
  }
}

export function validateQueueName(queue: string): void {
  if (queue === "" || queue.includes(":")) throw new TypeError(`invalid queue name '${queue}'`);
}

export function validateConcurrency(concurrency: number): void {
  if (!(Number.isInteger(concurrency) && concurrency >= 1)) {
    throw new RangeError("concurrency must be a positive integer");
  }
}

/** Delay before the run after failed run number `failedAttempt` (BullMQ's "exponential"). */
export function backoffDelay(failedAttempt: number, backoffMs: number): number {
  return Math.round(2 ** (failedAttempt - 1) * backoffMs);
}
