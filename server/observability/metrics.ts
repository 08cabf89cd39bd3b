import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { OpStatus } from "../protocol/ops";

/** The op statuses counted by `potentia_ops_total`, pre-created so a scrape shows zeros. */
const OP_STATUSES: readonly OpStatus[] = ["success", "conflict", "failed"];

/**
 * OPS-1: the Prometheus metrics of one app instance, on a registry of its own (never prom-client's
 * global one), so that tests can run several apps in one process. Labels never carry user or
 * canvas ids: `status`, `route` (a rate-limit rule id) and `queue` are small closed sets.
 * Other parts record through the methods below; `GET /metrics` (S1) serves `text()`.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly #ops: Counter<"status">;
  readonly #commitSeconds: Histogram;
  readonly #fanoutSeconds: Histogram;
  readonly #wsConnections: Gauge;
  readonly #rateLimited: Counter<"route">;
  readonly #conflicts: Counter;
  readonly #queueDepth: Gauge<"queue">;
  readonly #queues = new Map<string, () => number | Promise<number>>();

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.#ops = new Counter({
      name: "potentia_ops_total",
      help: "Block ops processed, by result status (MUT).",
      labelNames: ["status"],
      registers,
    });
    for (const status of OP_STATUSES) this.#ops.inc({ status }, 0);
    this.#commitSeconds = new Histogram({
      name: "potentia_op_commit_seconds",
      help: "Time from receiving a mutate request to its commit, in seconds.",
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.#fanoutSeconds = new Histogram({
      name: "potentia_fanout_delay_seconds",
      help: "Time from an op's commit to its delivery to a subscriber's socket, in seconds.",
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.#wsConnections = new Gauge({
      name: "potentia_ws_connections",
      help: "Open WebSocket connections on this process.",
      registers,
    });
    this.#rateLimited = new Counter({
      name: "potentia_rate_limited_total",
      help: "Requests refused by a rate limit, by rule id (API-2).",
      labelNames: ["route"],
      registers,
    });
    this.#conflicts = new Counter({
      name: "potentia_conflicts_total",
      help: "Ops answered with a conflict (MUT-4, MUT-6).",
      registers,
    });
    const queues = this.#queues;
    this.#queueDepth = new Gauge({
      name: "potentia_job_queue_depth",
      help: "Jobs waiting in a worker queue, read at scrape time.",
      labelNames: ["queue"],
      registers,
      async collect() {
        for (const [queue, read] of queues) {
          try {
            this.set({ queue }, await read());
          } catch {
            // A queue that cannot be read (Redis down) keeps its last value rather than failing S1.
          }
        }
      },
    });
  }

  /** A mutate batch committed: counts each result by status (and conflicts), times the commit. */
  opsCommitted(results: readonly { status: OpStatus }[], seconds: number): void {
    let conflicts = 0;
    for (const r of results) {
      this.#ops.inc({ status: r.status });
      if (r.status === "conflict") conflicts += 1;
    }
    if (conflicts > 0) this.#conflicts.inc(conflicts);
    this.#commitSeconds.observe(seconds);
  }

  /** One op delivered to a subscriber, `seconds` after its commit. */
  fanoutDelay(seconds: number): void {
    this.#fanoutSeconds.observe(Math.max(0, seconds));
  }

  /** A WebSocket opened (+1) or closed (-1). */
  wsConnection(delta: 1 | -1): void {
    this.#wsConnections.inc(delta);
  }

  /** A request refused by the rate-limit rule `route` (a rule id such as "H2", never a user id). */
  rateLimited(route: string): void {
    this.#rateLimited.inc({ route });
  }

  /** Reports `queue`'s depth at every scrape (e.g. a BullMQ waiting count). Returns an unwatch. */
  watchQueue(queue: string, read: () => number | Promise<number>): () => void {
    this.#queues.set(queue, read);
    this.#queueDepth.set({ queue }, 0);
    return () => {
      if (this.#queues.get(queue) === read) this.#queues.delete(queue);
    };
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The Prometheus text exposition of every metric of this instance. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}
