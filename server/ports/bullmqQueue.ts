import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import type { PortLogger } from "./portLogger";
import { consoleLogger, errorInfo } from "./portLogger";
import type { AddOptions, JobHandler, JobQueue, ProcessOptions } from "./queue";
import {
  DEFAULT_ATTEMPTS,
  DEFAULT_BACKOFF_MS,
  QueueClosedError,
  QueueUnavailableError,
  validateAdd,
  validateConcurrency,
  validateQueueName,
} from "./queue";
import { closeRedis, connectionName } from "./redisClient";

export interface BullmqQueueOptions {
  /** `REDIS_URL`. */
  url: string;
  /** Key prefix (`REDIS_PREFIX`); BullMQ keys live at `${prefix}bull:${queue}:…`. */
  prefix: string;
  /** Base of the exponential retry backoff (default 1000 ms). */
  backoffMs?: number;
  /** How long failed jobs are kept (default 7 days); until then their jobId stays taken. */
  keepFailedSeconds?: number;
  /** How long `add` waits for an unavailable Redis before rejecting (default 2000 ms). */
  addTimeoutMs?: number;
  logger?: PortLogger;
}

/**
 * Production job queue on BullMQ. Connections are this port's own: one producer connection
 * shared by every `Queue` (fail fast, so `add` reports an outage instead of hanging), and a
 * never-connected template that each `Worker` duplicates into its own blocking connections
 * (`maxRetriesPerRequest: null`, as BullMQ requires for workers).
 */
export class BullmqQueue implements JobQueue {
  readonly kind = "bullmq";
  readonly #prefix: string;
  readonly #producer: Redis;
  readonly #workerTemplate: Redis;
  readonly #queues = new Map<string, Queue>();
  readonly #workers = new Map<string, Worker>();
  readonly #backoffMs: number;
  readonly #keepFailedSeconds: number;
  readonly #addTimeoutMs: number;
  readonly #log: PortLogger;
  #failing = false;
  #closing: Promise<void> | undefined;

  constructor(opts: BullmqQueueOptions) {
    this.#prefix = `${opts.prefix}bull`;
    this.#backoffMs = opts.backoffMs ?? DEFAULT_BACKOFF_MS;
    this.#keepFailedSeconds = opts.keepFailedSeconds ?? 7 * 24 * 3600;
    this.#addTimeoutMs = opts.addTimeoutMs ?? 2_000;
    this.#log = opts.logger ?? consoleLogger;
    this.#producer = new Redis(opts.url, {
      connectionName: connectionName(this.#prefix, ":producer"),
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
    });
    this.#producer.on("error", (err) => {
      if (!this.#failing) this.#warn("producer connection", err);
      this.#failing = true;
    });
    this.#producer.on("ready", () => {
      this.#failing = false;
    });
    this.#workerTemplate = new Redis(opts.url, {
      connectionName: connectionName(this.#prefix, ":worker"),
      lazyConnect: true,
      maxRetriesPerRequest: null,
    });
  }

  async add(queue: string, name: string, data: unknown, opts: AddOptions = {}): Promise<void> {
    if (this.#closing) throw new QueueClosedError();
    validateAdd(queue, data, opts);
    const q = this.#queue(queue);
    await this.#producerReady();
    await q.add(name, data, {
      ...(opts.jobId === undefined ? {} : { jobId: opts.jobId }),
      ...(opts.delayMs ? { delay: opts.delayMs } : {}),
      attempts: opts.attempts ?? DEFAULT_ATTEMPTS,
      backoff: { type: "exponential", delay: this.#backoffMs },
      removeOnComplete: true,
      removeOnFail: { age: this.#keepFailedSeconds },
    });
  }

  async process(queue: string, handler: JobHandler, opts: ProcessOptions = {}): Promise<void> {
    if (this.#closing) throw new QueueClosedError();
    validateQueueName(queue);
    const concurrency = opts.concurrency ?? 1;
    validateConcurrency(concurrency);
    if (this.#workers.has(queue)) throw new Error(`queue '${queue}' already has a consumer in this instance`);
    const worker = new Worker(
      queue,
      async (job) => {
        await handler({ id: job.id ?? "", name: job.name, data: job.data, attempt: job.attemptsMade + 1 });
      },
      { connection: this.#workerTemplate, prefix: this.#prefix, concurrency },
    );
    worker.on("error", (err) => this.#warn(`worker ${queue}`, err));
    worker.on("failed", (job, err) => {
      if (job && job.attemptsMade >= (job.opts.attempts ?? 1)) {
        this.#log.error(
          { queue, job: job.id, name: job.name, attempts: job.attemptsMade, ...errorInfo(err) },
          "job failed after its last attempt",
        );
      }
    });
    this.#workers.set(queue, worker);
    await worker.waitUntilReady();
  }

  async depth(queue: string): Promise<number> {
    validateQueueName(queue);
    return this.#queue(queue).getJobCountByTypes("wait", "prioritized", "delayed", "active");
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      // Workers first: they finish their running jobs; then the producers; then our connections.
      await Promise.allSettled([...this.#workers.values()].map((w) => w.close()));
      await Promise.allSettled([...this.#queues.values()].map((q) => q.close()));
      await Promise.all([closeRedis(this.#producer), closeRedis(this.#workerTemplate)]);
    })();
    return this.#closing;
  }

  #queue(name: string): Queue {
    let q = this.#queues.get(name);
    if (!q) {
      q = new Queue(name, { connection: this.#producer, prefix: this.#prefix });
      q.on("error", (err) => this.#warn(`queue ${name}`, err));
      this.#queues.set(name, q);
    }
    return q;
  }

  /**
   * BullMQ would wait for Redis indefinitely; instead the caller learns, within a bound, that
   * the job was not stored (and keeps it, e.g. in its outbox, or fails the request).
   */
  async #producerReady(): Promise<void> {
    if (this.#producer.status === "ready") return;
    await new Promise<void>((resolve, reject) => {
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#producer.off("ready", onReady);
        reject(new QueueUnavailableError(`redis not ready (${this.#producer.status})`));
      }, this.#addTimeoutMs);
      this.#producer.once("ready", onReady);
    });
  }

  #warn(what: string, err: unknown): void {
    if (this.#closing) return;
    this.#log.warn({ what, ...errorInfo(err) }, "bullmq queue: redis error");
  }
}
