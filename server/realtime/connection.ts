import type { TRPC_ERROR_CODE_KEY } from "@trpc/server/rpc";
import type { RateLimiterMemory } from "rate-limiter-flexible";
import type { WebSocket } from "ws";
import { authorizeCanvas } from "../auth/access";
import type { Principal } from "../auth/principal";
import { DomainError } from "../domain/errors";
import { presenceInputSchema } from "../protocol/presence";
import { PresenceService } from "../services/presenceService";
import { CloseCodes } from "./closeCodes";
import type { RealtimeHub } from "./hub";
import {
  clientMessageSchema,
  errorFrame,
  eventsInputSchema,
  mutateInputSchema,
  resultFrame,
} from "./protocol";
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
}

const DOMAIN_TO_TRPC: Record<string, TRPC_ERROR_CODE_KEY> = {
  canvas_not_found: "NOT_FOUND",
  forbidden: "FORBIDDEN",
  rate_limited: "TOO_MANY_REQUESTS",
};

/**
 * One socket (RT-2): parses and validates every message at the edge, rate-limits it, and
 * routes it — `sync.events` to the canvas room, `sync.mutate` to the same mutation service as
 * H2, `sync.presence` / `sync.leave` to the same presence path as H3/H6.
 */
export class Connection {
  private readonly subs = new Map<string, Subscriber>();
  private strikes: number[] = [];
  private closed = false;
  private readonly expiryTimer: NodeJS.Timeout;

  constructor(
    readonly socket: WebSocket,
    readonly info: ConnectionInfo,
    private readonly hub: RealtimeHub,
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
    const { points, duration } = this.hub.deps.socketRate;
    return `more than ${points} messages per ${duration === 1 ? "second" : `${duration} s`} on this socket`;
  }

  /**
   * Takes one point of the socket's budget. False when it is spent; 20 refusals within 10 s close
   * the socket with 1008 (RT-6), so even a huge batch costs at most a few dozen answers.
   */
  private async take(): Promise<boolean> {
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
    try {
      if (path === "sync.events" && m.method === "subscription") {
        const parsedInput = eventsInputSchema.safeParse(input);
        if (!parsedInput.success)
          throw new DomainError("invalid_input", "since_seq must be a non-negative integer");
        if (this.subs.has(idKey))
          return this.send(errorFrame(m.id, jsonrpc, "BAD_REQUEST", `duplicate id ${idKey}`));
        // SEC-5: every subscription multiplies each op of the canvas; a socket gets a few at most.
        if (this.subs.size >= this.hub.deps.limits.subscriptionsPerSocket) {
          return this.send(
            errorFrame(
              m.id,
              jsonrpc,
              "BAD_REQUEST",
              `at most ${this.hub.deps.limits.subscriptionsPerSocket} sync.events subscriptions per socket; stop one first`,
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
          throw error;
        }
        return;
      }
      if (m.method !== "mutation") throw new DomainError("invalid_input", `unknown procedure ${path}`);
      if (path === "sync.mutate") {
        const parsedInput = mutateInputSchema.safeParse(input);
        if (!parsedInput.success) throw new DomainError("invalid_input", "ops must be an array of 1..50 ops");
        // Roles can change while the socket is open: check write access on every call.
        await authorizeCanvas(this.hub.deps.db, this.info.principal, this.info.canvasId, "write");
        const out = await this.hub.deps.canvasSync.mutate({
          canvasId: this.info.canvasId,
          userId: this.userId,
          ops: parsedInput.data.ops,
          ip: this.info.ip,
          userAgent: this.info.userAgent,
        });
        if (out.rateLimited) {
          return this.send(
            errorFrame(m.id, jsonrpc, "TOO_MANY_REQUESTS", "too many mutate requests; retry later", {
              results: out.results,
            }),
          );
        }
        return this.send(resultFrame(m.id, jsonrpc, { type: "data", data: { results: out.results } }));
      }
      if (path === "sync.presence" || path === "sync.leave") {
        const presence = new PresenceService(this.hub.deps.db, this.hub.deps.bus);
        if (path === "sync.leave") {
          await presence.leave(this.info.canvasId, this.userId);
        } else {
          const parsedInput = presenceInputSchema.safeParse(input ?? {});
          if (!parsedInput.success)
            throw new DomainError(
              "invalid_input",
              "presence is { cursor?: { x, y } | null (|x|, |y| ≤ 1e9), block_id?: uuid | null, typing?: boolean }",
            );
          await presence.update({
            canvasId: this.info.canvasId,
            userId: this.userId,
            cursor: parsedInput.data.cursor,
            blockId: parsedInput.data.block_id,
            typing: parsedInput.data.typing,
          });
        }
        return this.send(resultFrame(m.id, jsonrpc, { type: "data", data: { ok: true } }));
      }
      throw new DomainError("invalid_input", `unknown procedure ${path}`);
    } catch (error) {
      if (error instanceof DomainError) {
        const code =
          DOMAIN_TO_TRPC[error.code] ??
          (error.code === "invalid_input" ? "BAD_REQUEST" : "INTERNAL_SERVER_ERROR");
        return this.send(errorFrame(m.id, jsonrpc, code, error.message));
      }
      this.hub.deps.onError(error, `ws ${path}`);
      return this.send(errorFrame(m.id, jsonrpc, "INTERNAL_SERVER_ERROR", "an unexpected error occurred"));
    }
  }
}
