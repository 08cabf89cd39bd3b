import { Client } from "pg";
import type { Notify, NotifyHandler } from "./notify";
import { NotifyClosedError, quoteChannel } from "./notify";
import type { PortLogger } from "./portLogger";
import { consoleLogger, errorInfo } from "./portLogger";

export interface PgNotifyOptions {
  /** `DATABASE_URL_DIRECT`: a direct session, never through PgBouncer (LISTEN is session state, OPS-3). */
  connectionString: string;
  /** Shown in `pg_stat_activity` (default `potentia-notify`). */
  applicationName?: string;
  /** Reconnect backoff: first delay, doubling per failed attempt up to the maximum. */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  logger?: PortLogger;
}

interface Entry {
  readonly handler: NotifyHandler;
}

interface Session {
  readonly client: Client;
  /** LISTEN issued on this session, per channel. */
  readonly listening: Map<string, Promise<void>>;
}

/**
 * Production notifications: ONE dedicated `pg.Client` whatever the number of channels and
 * listeners. When the session drops it reconnects with exponential backoff and re-issues
 * LISTEN for every channel that still has a listener.
 */
export class PgNotify implements Notify {
  readonly kind = "postgres";
  readonly #opts: Required<Omit<PgNotifyOptions, "logger">>;
  readonly #log: PortLogger;
  readonly #handlers = new Map<string, Set<Entry>>();
  #session: Session | undefined;
  #connecting: Promise<void> | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #failures = 0;
  #closing: Promise<void> | undefined;

  constructor(opts: PgNotifyOptions) {
    this.#opts = {
      connectionString: opts.connectionString,
      applicationName: opts.applicationName ?? "potentia-notify",
      reconnectMinMs: opts.reconnectMinMs ?? 100,
      reconnectMaxMs: opts.reconnectMaxMs ?? 5_000,
    };
    this.#log = opts.logger ?? consoleLogger;
    this.#connecting = this.#connect();
  }

  async listen(channel: string, handler: NotifyHandler): Promise<() => Promise<void>> {
    if (this.#closing) throw new NotifyClosedError();
    const quoted = quoteChannel(channel);
    let set = this.#handlers.get(channel);
    if (!set) {
      set = new Set();
      this.#handlers.set(channel, set);
    }
    const entry: Entry = { handler };
    set.add(entry);
    const mine = set;
    // During a (re)connect, that attempt LISTENs on every registered channel itself.
    if (this.#connecting) await this.#connecting;
    await this.#ensureListening(channel);

    let done = false;
    return async () => {
      if (done) return;
      done = true;
      mine.delete(entry);
      if (mine.size > 0 || this.#handlers.get(channel) !== mine) return;
      this.#handlers.delete(channel);
      const session = this.#session;
      if (!session?.listening.delete(channel)) return;
      await session.client.query(`UNLISTEN ${quoted}`).catch(() => {});
    };
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      clearTimeout(this.#retryTimer);
      this.#retryTimer = undefined;
      this.#handlers.clear();
      await this.#connecting;
      const session = this.#session;
      this.#session = undefined;
      if (session) await session.client.end().catch(() => {});
    })();
    return this.#closing;
  }

  /** Never rejects: a failed attempt schedules the next one. */
  async #connect(): Promise<void> {
    let client: Client | undefined;
    try {
      client = new Client({
        connectionString: this.#opts.connectionString,
        application_name: this.#opts.applicationName,
        connectionTimeoutMillis: 5_000,
        keepAlive: true,
      });
      const self = client;
      client.on("notification", (msg) => this.#dispatch(msg.channel, msg.payload ?? ""));
      client.on("error", (err) => this.#lost(self, err));
      client.on("end", () => this.#lost(self, new Error("connection ended")));
      await client.connect();
      if (this.#closing) {
        await client.end().catch(() => {});
        return;
      }
      this.#session = { client, listening: new Map() };
      await Promise.all([...this.#handlers.keys()].map((channel) => this.#ensureListening(channel)));
      if (this.#failures > 0) this.#log.info({ failures: this.#failures }, "pg notify: connected again");
      this.#failures = 0;
    } catch (err) {
      this.#failures += 1;
      if (this.#failures === 1 || this.#failures % 10 === 0) {
        this.#log.warn(
          { failures: this.#failures, ...errorInfo(err) },
          "pg notify: cannot connect; retrying",
        );
      }
      client?.end().catch(() => {});
      this.#scheduleReconnect();
    } finally {
      this.#connecting = undefined;
    }
  }

  async #ensureListening(channel: string): Promise<void> {
    const session = this.#session;
    if (!session || !this.#handlers.has(channel)) return;
    let pending = session.listening.get(channel);
    if (!pending) {
      pending = session.client.query(`LISTEN ${quoteChannel(channel)}`).then(() => {});
      session.listening.set(channel, pending);
    }
    try {
      await pending;
    } catch (err) {
      // The session is breaking; its "error"/"end" reconnects and LISTENs again.
      if (session.listening.get(channel) === pending) session.listening.delete(channel);
      this.#log.warn({ channel, ...errorInfo(err) }, "pg notify: LISTEN failed");
    }
  }

  #lost(client: Client, err: Error): void {
    if (this.#session?.client !== client) return;
    this.#session = undefined;
    client.end().catch(() => {});
    if (this.#closing) return;
    this.#log.warn(errorInfo(err), "pg notify: connection lost; reconnecting");
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (this.#closing || this.#retryTimer) return;
    const { reconnectMinMs: min, reconnectMaxMs: max } = this.#opts;
    const base = Math.min(max, min * 2 ** this.#failures);
    const delay = base / 2 + Math.random() * (base / 2);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#connecting = this.#connect();
    }, delay);
  }

  #dispatch(channel: string, payload: string): void {
    const set = this.#handlers.get(channel);
    if (!set) return;
    for (const { handler } of [...set]) {
      try {
        handler(payload);
      } catch (err) {
        this.#log.error({ channel, ...errorInfo(err) }, "notify handler threw");
      }
    }
  }
}
