/**
 * Pub/sub between the parts of the real-time engine (RT-4). Two implementations:
 * `memoryBus.ts` (single-node: one process, in-process fan-out) and `redisBus.ts`
 * (production: fan-out across processes through Redis pub/sub, local fan-out kept when
 * Redis is down, OPS-6). Both run through `bus.contract.ts`.
 *
 * Delivery is at most once and asynchronous; within one process, messages on one channel
 * arrive in publish order. Messages lost while Redis was unreachable are not replayed:
 * `onReconnect` tells the engine to catch up from the op log instead.
 */
export type BusHandler = (message: string) => void;

export interface Bus {
  readonly kind: "memory" | "redis";
  /** Delivers to this process's subscribers and, with Redis, to other processes. Never throws for a Redis outage. */
  publish(channel: string, message: string): Promise<void>;
  /** Resolves once the subscription is live (or, with Redis down, registered for when it returns). */
  subscribe(channel: string, handler: BusHandler): Promise<() => Promise<void>>;
  /**
   * `cb` runs once every channel is subscribed again after messages may have been missed: after
   * the Redis subscriber connection came back from a loss, or connected late while channels were
   * already subscribed. The engine then catches up from the op log. Memory bus: never.
   */
  onReconnect(cb: () => void): () => void;
  /** False while cross-process delivery is impaired (Redis unreachable). */
  isHealthy(): boolean;
  close(): Promise<void>;
}

export class BusClosedError extends Error {
  constructor() {
    super("bus is closed");
    this.name = "BusClosedError";
  }
}
