import type { PGliteInterface } from "@electric-sql/pglite";
import type { Notify, NotifyHandler } from "./notify";
import { NotifyClosedError, quoteChannel } from "./notify";
import type { PortLogger } from "./portLogger";
import { consoleLogger, errorInfo } from "./portLogger";

/**
 * Single-node notifications on the embedded PGlite. The PGlite instance belongs to the
 * caller (the database port); close() only removes this port's listeners.
 */
export class PgliteNotify implements Notify {
  readonly kind = "pglite";
  readonly #unlisteners = new Set<() => Promise<void>>();
  readonly #log: PortLogger;
  #closing: Promise<void> | undefined;

  constructor(
    private readonly db: Pick<PGliteInterface, "listen" | "unlisten">,
    opts: { logger?: PortLogger } = {},
  ) {
    this.#log = opts.logger ?? consoleLogger;
  }

  async listen(channel: string, handler: NotifyHandler): Promise<() => Promise<void>> {
    if (this.#closing) throw new NotifyClosedError();
    const quoted = quoteChannel(channel);
    const safe = (payload: string) => {
      try {
        handler(payload);
      } catch (err) {
        this.#log.error({ channel, ...errorInfo(err) }, "notify handler threw");
      }
    };
    // PGlite interpolates the name into LISTEN as given; quoted, it keeps case and punctuation.
    // The function listen() returns re-normalises the already unquoted name (lower-casing it),
    // so unlisten() is called with the quoted name instead.
    await this.db.listen(quoted, safe);
    let done = false;
    const stop = async () => {
      if (done) return;
      done = true;
      this.#unlisteners.delete(stop);
      await this.db
        .unlisten(quoted, safe)
        .catch((err: unknown) => this.#log.warn(errorInfo(err), "pglite UNLISTEN failed"));
    };
    this.#unlisteners.add(stop);
    return stop;
  }

  close(): Promise<void> {
    this.#closing ??= Promise.all([...this.#unlisteners].map((stop) => stop())).then(() => {});
    return this.#closing;
  }
}
