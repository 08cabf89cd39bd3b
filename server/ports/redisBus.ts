import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import type { Bus, BusHandler } from "./bus";
import { BusClosedError } from "./bus";
import { LocalFanout } from "./localFanout";
import type { PortLogger } from "./portLogger";
import { consoleLogger, errorInfo } from "./portLogger";
import { closeRedis, connectionName } from "./redisClient";

export interface RedisBusOptions {
  /** `REDIS_URL`. */
  url: string;
  /** Key prefix (`REDIS_PREFIX`, e.g. `potentia:`); channels live at `${prefix}bus:${channel}`. */
  prefix: string;
  /** Tags this bus's messages so it can drop their echoes; defaults to a random UUID. */
  instanceId?: string;
  /** Upper bound for one PUBLISH round trip before it counts as failed (default 1000 ms). */
  publishTimeoutMs?: number;
  logger?: PortLogger;
}

/**
 * Production bus (RT-4, OPS-6), after Hocuspocus' Redis extension: separate pub and sub
 * connections, a key prefix, and an instance id on every message.
 *
 * Wire format of a Redis message: `${instanceId}\n${message}`. `publish` delivers to local
 * subscribers directly and drops the copy that Redis echoes back, so single-process fan-out
 * does not depend on Redis at all.
 *
 * Resubscription is done here rather than by ioredis (`autoResubscribe: false`) so that
 * `onReconnect` callbacks run only once every channel is subscribed again: a catch-up read
 * made from the callback can then not miss a message published right after it.
 */
export class RedisBus implements Bus {
  readonly kind = "redis";
  readonly instanceId: string;
  readonly #channelPrefix: string;
  readonly #pub: Redis;
  readonly #sub: Redis;
  readonly #fanout: LocalFanout;
  readonly #reconnectCallbacks = new Set<() => void>();
  readonly #log: PortLogger;
  /** Messages may have been missed since the sub connection was last subscribed to everything. */
  #gap = false;
  #pubFailing = false;
  #subFailing = false;
  #closing: Promise<void> | undefined;

  constructor(opts: RedisBusOptions) {
    this.instanceId = opts.instanceId ?? randomUUID();
    if (this.instanceId.includes("\n")) throw new TypeError("instanceId must not contain a newline");
    this.#channelPrefix = `${opts.prefix}bus:`;
    this.#log = opts.logger ?? consoleLogger;
    this.#fanout = new LocalFanout(this.#log);

    // Offline queue off: while Redis is down a PUBLISH fails at once instead of piling up.
    this.#pub = new Redis(opts.url, {
      connectionName: connectionName(this.#channelPrefix, "pub:", this.instanceId),
      enableOfflineQueue: false,
      commandTimeout: opts.publishTimeoutMs ?? 1_000,
      maxRetriesPerRequest: 1,
    });
    this.#sub = new Redis(opts.url, {
      connectionName: connectionName(this.#channelPrefix, "sub:", this.instanceId),
      enableOfflineQueue: false,
      autoResubscribe: false,
    });

    this.#pub.on("error", (err) => this.#pubFailed(err));
    this.#pub.on("ready", () => this.#pubRecovered());
    this.#sub.on("error", (err) => {
      if (!this.#subFailing) this.#log.warn(errorInfo(err), "redis bus: subscriber connection failing");
      this.#subFailing = true;
    });
    this.#sub.on("close", () => {
      if (this.#fanout.size > 0) this.#gap = true;
    });
    this.#sub.on("ready", () => void this.#resubscribe());
    this.#sub.on("message", (key: string, raw: string) => this.#fromRedis(key, raw));
  }

  async publish(channel: string, message: string): Promise<void> {
    if (this.#closing) throw new BusClosedError();
    this.#fanout.deliver(channel, message);
    if (this.#pub.status !== "ready") {
      this.#pubFailed(new Error(`redis connection is ${this.#pub.status}`));
      return;
    }
    try {
      await this.#pub.publish(this.#channelPrefix + channel, `${this.instanceId}\n${message}`);
      this.#pubRecovered();
    } catch (err) {
      // Other processes miss this message; they heal from the op log (RT-4).
      this.#pubFailed(err);
    }
  }

  async subscribe(channel: string, handler: BusHandler): Promise<() => Promise<void>> {
    if (this.#closing) throw new BusClosedError();
    const { first, sub } = this.#fanout.add(channel, handler);
    if (first) {
      if (this.#sub.status === "ready") {
        try {
          await this.#sub.subscribe(this.#channelPrefix + channel);
        } catch (err) {
          this.#gap = true;
          this.#log.warn({ channel, ...errorInfo(err) }, "redis bus: SUBSCRIBE failed; retried on reconnect");
        }
      } else {
        // Subscribed on the next "ready"; onReconnect then tells the caller to catch up.
        this.#gap = true;
      }
    }
    return async () => {
      const last = this.#fanout.remove(channel, sub);
      if (last && !this.#closing && this.#sub.status === "ready") {
        await this.#sub.unsubscribe(this.#channelPrefix + channel).catch(() => {});
      }
    };
  }

  onReconnect(cb: () => void): () => void {
    this.#reconnectCallbacks.add(cb);
    return () => {
      this.#reconnectCallbacks.delete(cb);
    };
  }

  isHealthy(): boolean {
    return !this.#closing && this.#pub.status === "ready" && this.#sub.status === "ready";
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#fanout.clear();
      this.#reconnectCallbacks.clear();
      await Promise.all([closeRedis(this.#pub), closeRedis(this.#sub)]);
    })();
    return this.#closing;
  }

  async #resubscribe(): Promise<void> {
    if (this.#subFailing) this.#log.info({}, "redis bus: subscriber connection is back");
    this.#subFailing = false;
    const keys = this.#fanout.channels().map((c) => this.#channelPrefix + c);
    if (keys.length > 0) {
      try {
        await this.#sub.subscribe(...keys);
      } catch (err) {
        // The connection dropped again; the next "ready" retries and #gap stays set.
        this.#log.warn(errorInfo(err), "redis bus: resubscribe failed");
        return;
      }
    }
    if (!this.#gap || this.#closing) return;
    this.#gap = false;
    for (const cb of [...this.#reconnectCallbacks]) {
      try {
        cb();
      } catch (err) {
        this.#log.error(errorInfo(err), "redis bus: onReconnect callback threw");
      }
    }
  }

  #fromRedis(key: string, raw: string): void {
    if (this.#closing || !key.startsWith(this.#channelPrefix)) return;
    const sep = raw.indexOf("\n");
    if (sep < 0) {
      this.#log.warn({ channel: key }, "redis bus: dropped a message without an instance id");
      return;
    }
    // Our own message: already delivered locally by publish().
    if (raw.slice(0, sep) === this.instanceId) return;
    this.#fanout.deliver(key.slice(this.#channelPrefix.length), raw.slice(sep + 1));
  }

  #pubFailed(err: unknown): void {
    if (this.#pubFailing || this.#closing) return;
    this.#pubFailing = true;
    this.#log.warn(errorInfo(err), "redis bus: publishing only locally until Redis is back");
  }

  #pubRecovered(): void {
    if (!this.#pubFailing) return;
    this.#pubFailing = false;
    this.#log.info({}, "redis bus: publishing to Redis again");
  }
}
