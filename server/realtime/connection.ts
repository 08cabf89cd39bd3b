import type { IncomingMessage } from "node:http";
import type { RateLimiterMemory } from "rate-limiter-flexible";
import type { WebSocket } from "ws";
import type { CanvasAccess } from "../auth/access";
import type { Principal } from "../auth/principal";
import type { RateRule } from "../env";
import { CloseCodes } from "../protocol/closeCodes";
import {
  clientMessageSchema,
  errorFrame,
  errorShapeFrame,
  eventsInputSchema,
  resultFrame,
  SYNC_PATHS,
} from "../protocol/wire";
import { Subscriber } from "./subscriber";

/** Rejected messages within 10 s after which a flooding socket is closed (RT-6). */
const FLOOD_STRIKES = 20;

/** The id of one call, when it has a usable one (for answering it without running it). */
function idOf(raw: unknown): string | number | null {
  const id = raw && typeof raw === "object" && !Array.isArray(raw) ? (raw as { id?: unknown }).id : null;
  return (typeof id === "number" && Number.isFinite(id)) || (typeof id === "string" && id.length <= 64)
    ? id
    : null;
}

export interface ConnectionInfo {
  principal: Principal;
  canvasId: string;
  ip: string;
  userAgent: string | null;
  /** What the upgrade proved (API-1: read access); the room closes the socket when it is lost. */
  access: CanvasAccess;
  /** The upgrade request. */
  req: IncomingMessage;
}

/** The mutations a socket may call (RT-2); `sync.events` is the room's. */
export type SocketMutation = (typeof SYNC_PATHS)["mutate" | "presence" | "leave"];
export const SOCKET_MUTATIONS: ReadonlySet<string> = new Set<SocketMutation>([
  SYNC_PATHS.mutate,
  SYNC_PATHS.presence,
  SYNC_PATHS.leave,
]);

/** A call's answer: the procedure's output, or its error as the HTTP side's formatter shapes it. */
export type CallOutcome = { ok: true; data: unknown } | { ok: false; error: unknown };

/**
 * Runs the socket's mutations through the same procedures as HTTP (H2, H3, H6): auth, input
 * validation and error mapping exist once (server/trpc/socketCaller.ts builds it).
 */
export interface SocketCalls {
  call(path: SocketMutation, input: unknown): Promise<CallOutcome>;
}

/**
 * What a connection needs of the process that holds it (the hub implements it): subscriptions to
 * the canvas's room, the write path, and its own departure.
 */
export interface ConnectionHost {
  attach(canvasId: string, sub: Subscriber, since: number | null): Promise<void>;
  detach(canvasId: string, sub: Subscriber): void;
  send(socket: WebSocket, frame: string | Buffer): void;
  forget(connection: Connection): void;
  /** H1's per-socket message limit (RATE_LIMITS.H1). */
  readonly socketRate: RateRule;
  /** SEC-5: `sync.events` subscriptions open at once on one socket. */
  readonly subscriptionsPerSocket: number;
  onError(error: unknown, context: string): void;
}

export class Connection {
  private readonly subs = new Map<string, Subscriber>();
  private strikes: number[] = [];
  /** The last budget point taken (see take()). */
  private budget: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly expiryTimer: NodeJS.Timeout;

  constructor(
    readonly socket: WebSocket,
    readonly info: ConnectionInfo,
    private readonly hub: ConnectionHost,
    private readonly calls: SocketCalls,
    private readonly limiter: RateLimiterMemory,
    private readonly key: string,
  ) {
    const ttl = Math.max(0, info.principal.expiresAt - Date.now());
    // RT-6: an expired token ends the socket (4401); the client refreshes and resumes.
    this.expiryTimer = setTimeout(
      () => this.close(CloseCodes.TOKEN_EXPIRED, "token expired"),
      Math.min(ttl, 2 ** 31 - 1),
    );
    this.expiryTimer.unref();
    socket.on("message", (data, isBinary) => void this.onMessage(data, isBinary));
    socket.on("close", () => this.dispose());
    socket.on("error", () => this.dispose());
  }

  get userId(): string {
    return this.info.principal.userId;
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.dispose();
    this.socket.close(code, reason);
  }

  private dispose(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.expiryTimer);
    for (const sub of this.subs.values()) this.hub.detach(this.info.canvasId, sub);
    this.subs.clear();
    this.hub.forget(this);
  }

  private send(frame: string): void {
    this.hub.send(this.socket, frame);
  }

  /**
   * SEC-5 / RT-6: every call costs one point of the socket's budget (10 messages/s): a lone
   * message, each element of a batch frame (tRPC lets a client send a JSON array of calls), and
   * the keep-alive `PING`. A refused call is answered under its own id, so the caller's pending
   * request settles (and is retried) instead of waiting; a refused `PING` gets no `PONG`.
   */
  private async onMessage(data: unknown, isBinary: boolean): Promise<void> {
    if (this.closed) return;
    const text = isBinary ? null : String(data);
    if (text === "PING" || text === "PONG") {
      if ((await this.take()) && text === "PING") this.send("PONG");
      return;
    }
    let parsed: unknown;
    try {
      parsed = text === null ? undefined : JSON.parse(text);
    } catch {
      if (await this.take())
        this.send(errorFrame(null, false, "PARSE_ERROR", "the message is not valid JSON"));
      return;
    }
    const calls = Array.isArray(parsed) ? parsed : [parsed];
    if (calls.length === 0) {
      if (await this.take()) this.send(errorFrame(null, false, "BAD_REQUEST", "an empty batch"));
      return;
    }
    for (const raw of calls) {
      if (this.closed) return;
      if (await this.take()) await this.handle(raw);
      else if (!this.closed) this.send(errorFrame(idOf(raw), false, "TOO_MANY_REQUESTS", this.rateMessage));
    }
  }

  private get rateMessage(): string {
    const { points, duration } = this.hub.socketRate;
    return `more than ${points} messages per ${duration === 1 ? "second" : `${duration} s`} on this socket`;
  }

  /**
   * Takes one point of the socket's budget, in the order the messages came: each message's
   * answer (a PONG, a refusal) is queued before the next message's point is taken, so frames read
   * at once are answered in order and nothing answerable is lost to the 1008 a later one triggers.
   */
  private take(): Promise<boolean> {
    const taken = this.budget.then(() => this.takeNow());
    this.budget = taken;
    return taken;
  }

  /**
   * False when the budget is spent; 20 refusals within 10 s close the socket with 1008 (RT-6), so
   * even a huge batch costs at most a few dozen answers.
   */
  private async takeNow(): Promise<boolean> {
    try {
      await this.limiter.consume(this.key);
      return true;
    } catch {
      const now = Date.now();
      this.strikes = this.strikes.filter((t) => now - t < 10_000);
      this.strikes.push(now);
      if (this.strikes.length >= FLOOD_STRIKES)
        this.close(CloseCodes.POLICY_VIOLATION, "message rate exceeded");
      return false;
    }
  }

  private async handle(raw: unknown): Promise<void> {
    const msg = clientMessageSchema.safeParse(raw);
    if (!msg.success) return this.send(errorFrame(idOf(raw), false, "BAD_REQUEST", "not a tRPC message"));
    const m = msg.data;
    const jsonrpc = m.jsonrpc === "2.0";
    const idKey = JSON.stringify(m.id);
    if (m.method === "subscription.stop") {
      const sub = this.subs.get(idKey);
      if (sub) {
        this.subs.delete(idKey);
        this.hub.detach(this.info.canvasId, sub);
      }
      return this.send(resultFrame(m.id, jsonrpc, { type: "stopped" }));
    }
    const { path, input, lastEventId } = m.params;
    if (path === SYNC_PATHS.events && m.method === "subscription") {
      const parsedInput = eventsInputSchema.safeParse(input);
      if (!parsedInput.success)
        return this.send(
          errorFrame(m.id, jsonrpc, "BAD_REQUEST", "since_seq must be a non-negative integer"),
        );
      if (this.subs.has(idKey))
        return this.send(errorFrame(m.id, jsonrpc, "BAD_REQUEST", `duplicate id ${idKey}`));
      // SEC-5: every subscription multiplies each op of the canvas; a socket gets a few at most.
      const max = this.hub.subscriptionsPerSocket;
      if (this.subs.size >= max) {
        return this.send(
          errorFrame(
            m.id,
            jsonrpc,
            "BAD_REQUEST",
            `at most ${max} sync.events subscriptions per socket; stop one first`,
            { reason: "too_many_subscriptions" },
          ),
        );
      }
      // lastEventId is 1..15 digits (the message schema): a safe integer, as since_seq.
      const since = lastEventId !== undefined ? Number(lastEventId) : (parsedInput.data?.since_seq ?? null);
      const sub = new Subscriber(this.socket, this.userId, idKey, jsonrpc, (s, f) => this.hub.send(s, f));
      this.subs.set(idKey, sub);
      this.send(resultFrame(m.id, jsonrpc, { type: "started" }));
      try {
        await this.hub.attach(this.info.canvasId, sub, since);
      } catch (error) {
        // A subscription that failed to start must not stay half attached (receiving live ops).
        this.subs.delete(idKey);
        this.hub.detach(this.info.canvasId, sub);
        this.hub.onError(error, "ws sync.events");
        this.send(errorFrame(m.id, jsonrpc, "INTERNAL_SERVER_ERROR", "An unexpected error occurred."));
      }
      return;
    }
    if (m.method !== "mutation" || !SOCKET_MUTATIONS.has(path))
      return this.send(errorFrame(m.id, jsonrpc, "BAD_REQUEST", `unknown procedure ${path}`));
    const outcome = await this.calls.call(path as SocketMutation, input);
    if (this.closed) return;
    this.send(
      outcome.ok
        ? resultFrame(m.id, jsonrpc, { type: "data", data: outcome.data })
        : errorShapeFrame(m.id, jsonrpc, outcome.error),
    );
  }
}
