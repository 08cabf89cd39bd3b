import type { ConnectionState } from "./syncOptions";
import type { ClosedReason, SyncEvent, SyncTransport } from "./syncTypes";
import { ClosedError } from "./syncTypes";

/**
 * Whether the device has a network at all: `navigator.onLine` and the window's `online` /
 * `offline` events in the browser, something scripted in tests. `false` is reliable (there is
 * no network); `true` only means an attempt is worth making.
 */
export interface NetworkStatus {
  online(): boolean;
  /** Calls `listener` whenever `online()` may have changed; returns the unsubscribe. */
  subscribe(listener: () => void): () => void;
}

/** No network information (Node, tests that do not care): always worth trying. */
export const ALWAYS_ONLINE: NetworkStatus = { online: () => true, subscribe: () => () => {} };

/** The browser's view of the network (navigator.onLine, window online/offline). */
export function browserNetworkStatus(): NetworkStatus {
  if (typeof window === "undefined" || typeof navigator === "undefined") return ALWAYS_ONLINE;
  return {
    online: () => navigator.onLine !== false,
    subscribe(listener) {
      window.addEventListener("online", listener);
      window.addEventListener("offline", listener);
      return () => {
        window.removeEventListener("online", listener);
        window.removeEventListener("offline", listener);
      };
    },
  };
}

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
  /** The state, and the transport mutations may use now (null: none). */
  onState(state: ConnectionState, transport: SyncTransport | null): void;
  /** The server ended our access (4403 / 4404, REST 403 / 404): the connection has stopped. */
  onClosed(reason: ClosedReason): void;
  later(fn: () => void, ms: number): void;
  backoff(attempt: number): number;
}

/**
 * UI-3: which stream the engine listens to, and what the badge says about it.
 *
 * - `live`: the socket's subscription has started.
 * - `polling`: the last H4 poll succeeded (after N failed socket connects, or A1 said `polling`);
 *   the socket is probed every `socketRetryMs` to get back to live.
 * - `reconnecting`: a stream that worked was lost and the first attempt to get it back is on
 *   its way (also the first connect).
 * - `offline`: the device has no network (nothing is attempted until it returns), or the last
 *   attempt failed (retried with backoff). A failed poll is never "polling".
 *
 * When the network goes away every stream is closed at once (the server then drops our
 * presence as soon as it sees the socket gone); when it comes back, failure counts and backoff
 * are forgotten and the socket is tried immediately.
 */
export class SyncConnection {
  state: ConnectionState = "offline";
  private main: (() => void) | null = null;
  private probe: (() => void) | null = null;
  private probeScheduled = false;
  private socketFailures = 0;
  private pollFailures = 0;
  /** The latest attempt failed: later attempts keep saying "offline" until one works. */
  private failing = false;
  private stopped = false;
  /** Bumped to void every timer scheduled before (the network changed). */
  private epoch = 0;
  private readonly network: NetworkStatus;
  private unwatch: (() => void) | null = null;

  constructor(private readonly d: SyncConnectionDeps) {
    this.network = d.network ?? ALWAYS_ONLINE;
  }

  /** (Re)subscribes from the current serverSeq. */
  connect(): void {
    if (this.stopped) return;
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
    if (this.state === "polling") {
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
    this.stopped = true;
    this.unwatch?.();
    this.unwatch = null;
    this.closeMain();
    this.closeProbe();
  }

  private onNetwork = (): void => {
    if (this.stopped) return;
    if (!this.network.online()) {
      this.goOffline();
      return;
    }
    // A spurious `online` while a stream works changes nothing.
    if (this.main && (this.state === "live" || this.state === "polling")) return;
    this.voidTimers();
    this.socketFailures = 0;
    this.pollFailures = 0;
    this.failing = false;
    this.connect();
  };

  /** No network: every stream closed, no retry pending, until the network returns. */
  private goOffline(): void {
    this.voidTimers();
    this.closeMain();
    this.closeProbe();
    this.failing = false;
    if (this.state !== "offline") this.set("offline", null);
  }

  private wantsSocket(): boolean {
    return this.d.mode === "websocket" && this.d.ws !== undefined;
  }

  /** A refusal no retry can fix: stop everything and tell the engine. */
  private closedBy(error: unknown): boolean {
    if (!(error instanceof ClosedError)) return false;
    this.stop();
    this.d.onClosed(error.reason);
    return true;
  }

  private closeMain(): void {
    const main = this.main;
    this.main = null;
    main?.();
  }

  private closeProbe(): void {
    const probe = this.probe;
    this.probe = null;
    probe?.();
  }

  private voidTimers(): void {
    this.epoch++;
    this.probeScheduled = false;
  }

  /** d.later, but void once the network changed or the connection stopped. */
  private after(fn: () => void, ms: number): void {
    const epoch = this.epoch;
    this.d.later(() => {
      if (epoch === this.epoch && !this.stopped) fn();
    }, ms);
  }

  private set(state: ConnectionState, transport: SyncTransport | null): void {
    this.state = state;
    this.d.onState(state, transport);
  }

  private openSocket(asProbe: boolean): void {
    const ws = this.d.ws as SyncTransport;
    if (!asProbe && !this.failing && this.state !== "live") this.set("reconnecting", null);
    let open = false;
    const unsub = ws.subscribe(this.d.seq(), {
      onEvent: (e) => open && this.d.onEvent(e),
      onOpen: () => {
        open = true;
        if (this.probe === unsub) {
          // The probe becomes the stream; its replay started at or before serverSeq, so no gap.
          this.probe = null;
          this.closeMain();
          this.main = unsub;
        }
        this.socketFailures = 0;
        this.failing = false;
        this.set("live", ws);
      },
      onClose: (error) => {
        if (this.stopped) return;
        if (this.closedBy(error)) return;
        if (this.probe === unsub) {
          this.probe = null;
          this.scheduleProbe();
          return;
        }
        if (this.main !== unsub) return;
        this.main = null;
        this.socketFailures++;
        if (open) this.set("reconnecting", null);
        else {
          this.failing = true;
          this.set("offline", null);
        }
        this.after(() => this.connect(), this.d.backoff(this.socketFailures - 1));
      },
    });
    if (asProbe) this.probe = unsub;
    else this.main = unsub;
  }

  private openPolling(): void {
    const rest = this.d.rest;
    const unsub = rest.subscribe(this.d.seq(), {
      onEvent: (e) => this.d.onEvent(e),
      onOpen: () => {
        this.pollFailures = 0;
        this.failing = false;
        this.set("polling", rest);
      },
      onClose: (error) => {
        if (this.stopped || this.main !== unsub) return;
        if (this.closedBy(error)) return;
        this.main = null;
        this.failing = true;
        this.set("offline", null);
        this.after(() => this.connect(), this.d.backoff(this.pollFailures++));
      },
    });
    this.main = unsub;
    if (this.wantsSocket()) this.scheduleProbe();
  }

  private scheduleProbe(): void {
    if (this.probeScheduled) return;
    this.probeScheduled = true;
    this.after(() => {
      this.probeScheduled = false;
      if (this.state === "live" || !this.wantsSocket() || this.probe || !this.network.online()) return;
      this.openSocket(true);
    }, this.d.socketRetryMs);
  }
}
