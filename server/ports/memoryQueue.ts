import { randomUUID } from "node:crypto";
import type { PortLogger } from "./portLogger";
import { consoleLogger, errorInfo } from "./portLogger";
import type { AddOptions, JobHandler, JobQueue, ProcessOptions } from "./queue";
import {
  backoffDelay,
  DEFAULT_ATTEMPTS,
  DEFAULT_BACKOFF_MS,
  QueueClosedError,
  validateAdd,
  validateConcurrency,
  validateQueueName,
} from "./queue";

export interface MemoryQueueOptions {
  /** Base of the exponential retry backoff (default 1000 ms). */
  backoffMs?: number;
  /** Failed jobs kept per queue (oldest forgotten first, default 1000), as BullMQ keeps its failed set. */
  keepFailed?: number;
  logger?: PortLogger;
}

interface Entry {
  id: string;
  name: string;
  /** Stored as JSON, as BullMQ stores it: handlers never share objects with the producer. */
  json: string;
  attempt: number;
  attempts: number;
}

interface QueueState {
  waiting: Entry[];
  delayed: Map<string, ReturnType<typeof setTimeout>>;
  active: Set<string>;
  /** Ids of failed jobs, oldest first; they still block their jobId. */
  failed: string[];
  /** Every id that a new add with the same jobId must not duplicate. */
  known: Set<string>;
  consumer?: { handler: JobHandler; concurrency: number };
}

/** Single-node job queue: the same contract as BullMQ, in this process's memory. */
export class MemoryQueue implements JobQueue {
  readonly kind = "memory";
  readonly #queues = new Map<string, QueueState>();
  readonly #running = new Set<Promise<void>>();
  readonly #backoffMs: number;
  readonly #keepFailed: number;
  readonly #log: PortLogger;
  #closing: Promise<void> | undefined;

  constructor(opts: MemoryQueueOptions = {}) {
    this.#backoffMs = opts.backoffMs ?? DEFAULT_BACKOFF_MS;
    this.#keepFailed = opts.keepFailed ?? 1_000;
    this.#log = opts.logger ?? consoleLogger;
  }

  async add(queue: string, name: string, data: unknown, opts: AddOptions = {}): Promise<void> {
    if (this.#closing) throw new QueueClosedError();
    validateAdd(queue, data, opts);
    const state = this.#state(queue);
    const id = opts.jobId ?? randomUUID();
    if (state.known.has(id)) return;
    state.known.add(id);
    const entry: Entry = {
      id,
      name,
      json: JSON.stringify(data),
      attempt: 1,
      attempts: opts.attempts ?? DEFAULT_ATTEMPTS,
    };
    if (opts.delayMs && opts.delayMs > 0) this.#delay(state, entry, opts.delayMs);
    else this.#enqueue(state, entry);
  }

  async process(queue: string, handler: JobHandler, opts: ProcessOptions = {}): Promise<void> {
    if (this.#closing) throw new QueueClosedError();
    validateQueueName(queue);
    const concurrency = opts.concurrency ?? 1;
    validateConcurrency(concurrency);
    const state = this.#state(queue);
    if (state.consumer) throw new Error(`queue '${queue}' already has a consumer in this instance`);
    state.consumer = { handler, concurrency };
    this.#pump(state);
  }

  async depth(queue: string): Promise<number> {
    validateQueueName(queue);
    const state = this.#queues.get(queue);
    return state ? state.waiting.length + state.delayed.size + state.active.size : 0;
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      for (const state of this.#queues.values()) {
        for (const timer of state.delayed.values()) clearTimeout(timer);
        state.delayed.clear();
        state.waiting.length = 0;
      }
      await Promise.allSettled([...this.#running]);
    })();
    return this.#closing;
  }

  #state(queue: string): QueueState {
    let state = this.#queues.get(queue);
    if (!state) {
      state = { waiting: [], delayed: new Map(), active: new Set(), failed: [], known: new Set() };
      this.#queues.set(queue, state);
    }
    return state;
  }

  #enqueue(state: QueueState, entry: Entry): void {
    state.waiting.push(entry);
    this.#pump(state);
  }

  #delay(state: QueueState, entry: Entry, ms: number): void {
    const timer = setTimeout(() => {
      state.delayed.delete(entry.id);
      this.#enqueue(state, entry);
    }, ms);
    state.delayed.set(entry.id, timer);
  }

  #pump(state: QueueState): void {
    const consumer = state.consumer;
    if (!consumer || this.#closing) return;
    while (state.active.size < consumer.concurrency) {
      const entry = state.waiting.shift();
      if (!entry) return;
      state.active.add(entry.id);
      const run = this.#run(state, consumer.handler, entry).finally(() => {
        this.#running.delete(run);
        this.#pump(state);
      });
      this.#running.add(run);
    }
  }

  async #run(state: QueueState, handler: JobHandler, entry: Entry): Promise<void> {
    let failure: { err: unknown } | undefined;
    try {
      await handler({ id: entry.id, name: entry.name, data: JSON.parse(entry.json), attempt: entry.attempt });
    } catch (err) {
      failure = { err };
    }
    // Leaves "active" in the same turn as it enters its next state, so depth never counts it twice.
    state.active.delete(entry.id);
    if (!failure) {
      state.known.delete(entry.id);
      return;
    }
    // Closing drops unfinished work, as it drops waiting jobs (single-node: the process is ending).
    if (this.#closing) return;
    if (entry.attempt < entry.attempts) {
      const wait = backoffDelay(entry.attempt, this.#backoffMs);
      entry.attempt += 1;
      this.#delay(state, entry, wait);
      return;
    }
    this.#log.error(
      { job: entry.id, name: entry.name, attempts: entry.attempt, ...errorInfo(failure.err) },
      "job failed after its last attempt",
    );
    state.failed.push(entry.id);
    if (state.failed.length > this.#keepFailed) {
      const forgotten = state.failed.shift();
      if (forgotten !== undefined) state.known.delete(forgotten);
    }
  }
}
