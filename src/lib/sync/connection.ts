import {
  attempting,
  badgeOf,
  type ConnectionState,
  isTerminal,
  type LinkState,
  transition,
  transportOf,
} from "./connectionState";
import { ALWAYS_ONLINE, type NetworkStatus } from "./network";
import type { ClosedReason, SyncEvent, SyncTransport } from "./types";
import { ClosedError } from "./types";

export interface SyncConnectionDeps {
  ws?: SyncTransport;
  rest: SyncTransport;
  mode: "websocket" | "polling";
  maxSocketFailures: number;
  socketRetryMs: number;
  /** Defaults to ALWAYS_ONLINE. */
  network?: NetworkStatus;
  /** The engine's serverSeq: every (re)subscription resumes from it (RT-5). */
  seq(): number;
  onEvent(event: SyncEvent): void;
  /** The badge, and the transport mutations may use now (null: none). */
  onState(state: ConnectionState, transport: SyncTransport | null): void;
  /** The server ended our access (4403 / 4404, REST 403 / 404): the connection has stopped. */
  onClosed(reason: ClosedReason): void;
  later(fn: () => void, ms: number): void;
  backoff(attempt: number): number;
}

/** A subscription; `close` is set once the transport's subscribe returned. */
interface Stream {
  close(): void;
}

/**
 * UI-3: which stream the engine listens to, driven through the states of `connectionState.ts`
 * (live / polling / connecting / failing / offline / resuming / stopped / closed).
 *
 * The socket is tried first; after `maxSocketFailures` failed connects in a row (or when A1 says
 * `polling`) H4 polling takes over and the socket is probed every `socketRetryMs` to get back to
 * live. When the network goes away every stream is closed at once (the server then drops our
 * presence as soon as it sees the socket gone); when it comes back, failure counts and backoff
 * are forgotten and the socket is tried immediately.
 */
export class SyncConnection {
  private now: LinkState = { name: "idle" };
  /** The stream the engine listens to (or the attempt to open it). */
  private main: Stream | null = null;
  /** A socket tried in the background while polling; it becomes `main` when it opens. */
  private probe: Stream | null = null;
  private probeScheduled = false;
  private socketFailures = 0;
  private pollFailures = 0;
  /** Bumped to void every timer scheduled before (the network changed). */
  private epoch = 0;
  private readonly network: NetworkStatus;
  private unwatch: (() => void) | null = null;

  constructor(private readonly d: SyncConnectionDeps) {
    this.network = d.network ?? ALWAYS_ONLINE;
  }

  /** The machine's state. */
  get link(): LinkState {
    return this.now;
  }

  /** What the badge says. */
  get state(): ConnectionState {
    return badgeOf(this.now);
  }

  /** (Re)subscribes from the current serverSeq. */
  connect(): void {
    if (isTerminal(this.now)) return;
    this.unwatch ??= this.network.subscribe(this.onNetwork);
    this.closeMain();
    if (!this.network.online()) {
      this.goOffline();
      return;
    }
    if (this.wantsSocket() && this.socketFailures < this.d.maxSocketFailures) this.openSocket(false);
    else this.openPolling();
  }

  /** Polling: fetch now rather than at the next tick (our ops' events are waiting). */
  refresh(): void {
    if (badgeOf(this.now) === "polling") {
      this.closeMain();
      this.openPolling();
    }
  }

  setMode(mode: "websocket" | "polling"): void {
    if (mode === this.d.mode) return;
    this.d.mode = mode;
    this.socketFailures = 0;
    this.closeProbe();
    this.connect();
  }

  /** Idempotent. */
  stop(): void {
    this.finish({ name: "stopped" });
  }

  private finish(end: Extract<LinkState, { name: "stopped" | "closed" }>): void {
    if (isTerminal(this.now)) return;
    this.to(end);
    this.unwatch?.();
    this.unwatch = null;
    this.closeMain();
    this.closeProbe();
  }

  /**
   * Every state change goes through here (the transition table refuses the rest). The engine
   * hears of it when the badge or the transport changed, and whenever a stream has opened (it
   * sends what waited for one).
   */
  private to(next: LinkState): void {
    const prev = this.now;
    this.now = transition(prev, next);
    if (isTerminal(next)) return;
    const transport = transportOf(next);
    if (
      next.name === "live" ||
      next.name === "polling" ||
      badgeOf(prev) !== badgeOf(next) ||
      transportOf(prev) !== transport
    )
      this.d.onState(badgeOf(next), transport);
  }

  private onNetwork = (): void => {
    if (isTerminal(this.now)) return;
    if (!this.network.online()) {
      this.goOffline();
      return;
    }
    // A spurious `online` while a stream works changes nothing.
    const working = this.now.name === "live" || this.now.name === "polling" || this.now.name === "resuming";
    if (this.main && working) return;
    this.voidTimers();
    this.socketFailures = 0;
    this.pollFailures = 0;
    // The failures are forgotten: the next attempt is a reconnect, not another failed retry.
    if (this.now.name === "failing") this.to({ name: "connecting" });
    this.connect();
  };

  /** No network: every stream closed, no retry pending, until the network returns. */
  private goOffline(): void {
    this.voidTimers();
    this.closeMain();
    this.closeProbe();
    this.to({ name: "offline" });
  }

  private wantsSocket(): boolean {
    return this.d.mode === "websocket" && this.d.ws !== undefined;
  }

  /** A refusal no retry can fix: stop everything and tell the engine. */
  private closedBy(error: unknown): boolean {
    if (!(error instanceof ClosedError)) return false;
    this.finish({ name: "closed", reason: error.reason });
    this.d.onClosed(error.reason);
    return true;
  }

  private closeMain(): void {
    const main = this.main;
    this.main = null;
    main?.close();
  }

  private closeProbe(): void {
    const probe = this.probe;
    this.probe = null;
    probe?.close();
  }

  private voidTimers(): void {
    this.epoch++;
    this.probeScheduled = false;
  }

  /** d.later, but void once the network changed or the connection stopped. */
  private after(fn: () => void, ms: number): void {
    const epoch = this.epoch;
    this.d.later(() => {
      if (epoch === this.epoch && !isTerminal(this.now)) fn();
    }, ms);
  }

  private openSocket(asProbe: boolean): void {
    const ws = this.d.ws as SyncTransport;
    if (!asProbe) this.to(attempting(this.now, "socket"));
    let open = false;
    // Ours before subscribe is called: a transport may answer before it returns.
    const stream: Stream = { close: () => {} };
    if (asProbe) this.probe = stream;
    else this.main = stream;
    stream.close = ws.subscribe(this.d.seq(), {
      onEvent: (e) => open && this.d.onEvent(e),
      onOpen: () => {
        if (this.probe === stream) {
          // The probe becomes the stream; its replay started at or before serverSeq, so no gap.
          this.probe = null;
          this.closeMain();
          this.main = stream;
        }
        // A socket given up on (replaced, network gone) that opens anyway is not our stream.
        if (this.main !== stream) return;
        open = true;
        this.socketFailures = 0;
        this.to({ name: "live", transport: ws });
      },
      onClose: (error) => {
        if (isTerminal(this.now)) return;
        if (this.closedBy(error)) return;
        if (this.probe === stream) {
          this.probe = null;
          this.scheduleProbe();
          return;
        }
        if (this.main !== stream) return;
        this.main = null;
        this.socketFailures++;
        // A stream that worked was lost: one attempt to get it back; a connect that failed: Offline.
        this.to(open ? { name: "connecting" } : { name: "failing" });
        this.after(() => this.connect(), this.d.backoff(this.socketFailures - 1));
      },
    });
  }

  private openPolling(): void {
    const rest = this.d.rest;
    this.to(attempting(this.now, "poll"));
    const stream: Stream = { close: () => {} };
    this.main = stream;
    stream.close = rest.subscribe(this.d.seq(), {
      onEvent: (e) => this.d.onEvent(e),
      onOpen: () => {
        if (this.main !== stream) return;
        this.pollFailures = 0;
        this.to({ name: "polling", transport: rest });
      },
      onClose: (error) => {
        if (isTerminal(this.now) || this.main !== stream) return;
        if (this.closedBy(error)) return;
        this.main = null;
        // A failed poll is never "polling".
        this.to({ name: "failing" });
        this.after(() => this.connect(), this.d.backoff(this.pollFailures++));
      },
    });
    if (this.wantsSocket()) this.scheduleProbe();
  }

  private scheduleProbe(): void {
    if (this.probeScheduled) return;
    this.probeScheduled = true;
    this.after(() => {
      this.probeScheduled = false;
      if (this.now.name === "live" || !this.wantsSocket() || this.probe || !this.network.online()) return;
      this.openSocket(true);
    }, this.d.socketRetryMs);
  }
}
