import type { ConnectionState } from "./syncOptions";
import type { ClosedReason, SyncEvent, SyncTransport } from "./syncTypes";
import { ClosedError } from "./syncTypes";

export interface SyncConnectionDeps {
  ws?: SyncTransport;
  rest: SyncTransport;
  mode: "websocket" | "polling";
  maxSocketFailures: number;
  socketRetryMs: number;
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
 * Which stream the engine listens to: the socket while it works, H4 polling after N failed
 * connects or when A1 says `polling`, and a socket probe every `socketRetryMs` to get back.
 */
export class SyncConnection {
  state: ConnectionState = "offline";
  private main: (() => void) | null = null;
  private probe: (() => void) | null = null;
  private probeScheduled = false;
  private socketFailures = 0;
  private pollFailures = 0;
  private stopped = false;

  constructor(private readonly d: SyncConnectionDeps) {}

  /** (Re)subscribes from the current serverSeq. */
  connect(): void {
    if (this.stopped) return;
    this.closeMain();
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
    this.probe?.();
    this.probe = null;
    this.connect();
  }

  /** Idempotent. */
  stop(): void {
    this.stopped = true;
    this.closeMain();
    this.probe?.();
    this.probe = null;
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

  private set(state: ConnectionState, transport: SyncTransport | null): void {
    this.state = state;
    this.d.onState(state, transport);
  }

  private openSocket(asProbe: boolean): void {
    const ws = this.d.ws as SyncTransport;
    if (!asProbe && this.state !== "live") this.set("reconnecting", null);
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
        this.set("reconnecting", null);
        this.d.later(() => this.connect(), this.d.backoff(this.socketFailures - 1));
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
        this.set("polling", rest);
      },
      onClose: (error) => {
        if (this.stopped || this.main !== unsub) return;
        if (this.closedBy(error)) return;
        this.main = null;
        this.set("offline", null);
        this.d.later(() => this.connect(), this.d.backoff(this.pollFailures++));
      },
    });
    this.main = unsub;
    if (this.wantsSocket()) this.scheduleProbe();
  }

  private scheduleProbe(): void {
    if (this.probeScheduled) return;
    this.probeScheduled = true;
    this.d.later(() => {
      this.probeScheduled = false;
      if (this.stopped || this.state === "live" || !this.wantsSocket() || this.probe) return;
      this.openSocket(true);
    }, this.d.socketRetryMs);
  }
}
