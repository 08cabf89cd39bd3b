import type { Bus, BusHandler } from "./bus";
import { BusClosedError } from "./bus";
import { LocalFanout } from "./localFanout";
import type { PortLogger } from "./portLogger";
import { consoleLogger } from "./portLogger";

/** Single-node bus: every subscriber lives in this process, so there is nothing to reconnect. */
export class MemoryBus implements Bus {
  readonly kind = "memory";
  readonly #fanout: LocalFanout;
  #closed = false;

  constructor(opts: { logger?: PortLogger } = {}) {
    this.#fanout = new LocalFanout(opts.logger ?? consoleLogger);
  }

  async publish(channel: string, message: string): Promise<void> {
    if (this.#closed) throw new BusClosedError();
    this.#fanout.deliver(channel, message);
  }

  async subscribe(channel: string, handler: BusHandler): Promise<() => Promise<void>> {
    if (this.#closed) throw new BusClosedError();
    const { sub } = this.#fanout.add(channel, handler);
    return async () => {
      this.#fanout.remove(channel, sub);
    };
  }

  onReconnect(_cb: () => void): () => void {
    return () => {};
  }

  isHealthy(): boolean {
    return !this.#closed;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#fanout.clear();
  }
}
