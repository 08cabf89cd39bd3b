import type { Socket } from "node:net";
import { RateLimiterMemory } from "rate-limiter-flexible";
import type { WebSocket } from "ws";
import type { Database } from "../db/sql";
import type { RateRule } from "../env";
import type { Bus } from "../ports/bus";
import { canvasControlChannel } from "../protocol/channels";
import { CloseCodes } from "../protocol/closeCodes";
import type { OpEvent } from "../protocol/ops";
import type { PresenceService } from "../services/presenceService";
import { Connection, type ConnectionHost, type ConnectionInfo, type SocketCalls } from "./connection";
import { PresenceRoom } from "./presenceRoom";
import { CanvasRoom } from "./room";
import type { Subscriber } from "./subscriber";

export interface HubDeps {
  db: Database;
  bus: Bus;
  /** RT-7 / RT-10: what sockets opening and closing mean for presence. */
  presence: Pick<PresenceService, "connected" | "disconnected" | "announce">;
  /** The socket's mutations, through the same procedures as HTTP (one per connection). */
  calls: (info: ConnectionInfo) => SocketCalls;
  /** RT-6: queued bytes past which a socket is closed as a slow consumer. */
  maxBufferedBytes: number;
  /** H1's per-socket message limit (RATE_LIMITS.H1). */
  socketRate: RateRule;
  /** SEC-5: sockets and subscriptions one user may hold in this process. */
  limits: SocketLimits;
  onError: (error: unknown, context: string) => void;
  /** A socket opened (+1) or closed (-1): for potentia_ws_connections (OPS-1). */
  onConnection?: (delta: 1 | -1) => void;
  /** An op delivered to a room, for the fan-out delay histogram (OPS-1). */
  onDelivered?: (event: OpEvent) => void;
}

/**
 * SEC-5: what one user may hold, counted per process. The caps protect the process that holds the
 * sockets (each socket and subscription costs it memory, fan-out writes and replay queries), so
 * they are kept where that cost is paid; across N processes a user holds at most N times as many.
 */
export interface SocketLimits {
  /** `sync.events` subscriptions open at once on one socket (WS_MAX_SUBSCRIPTIONS). */
  subscriptionsPerSocket: number;
  /** Sockets of one user on one canvas (WS_MAX_SOCKETS_PER_USER_CANVAS). */
  socketsPerUserCanvas: number;
  /** Sockets of one user over all canvases (WS_MAX_SOCKETS_PER_USER). */
  socketsPerUser: number;
}

/** How often each room re-checks its sockets' memberships, besides control messages (RT-6). */
const MEMBERSHIP_RECHECK_MS = 4_000;
/** Frames are text whether given as a string or as a (shared) buffer. */
const TEXT = { binary: false } as const;

interface RoomEntry {
  room: CanvasRoom;
  presence: PresenceRoom<Subscriber>;
  ready: Promise<void>;
  connections: Set<Connection>;
  /** Sockets per user in this room (a user joins with the first and leaves with the last). */
  users: Map<string, number>;
  unsubscribe: (() => Promise<void>)[];
  timer: NodeJS.Timeout;
}

/**
 * The process's real-time state: one room per canvas with subscribers here (ops: CanvasRoom;
 * presence: PresenceRoom), the sockets, and the write path. Writes to a socket are corked on first
 * use in an event-loop turn and uncorked once per turn, so many frames leave in one TCP write; a
 * socket whose buffer passes its cap is closed as a slow consumer without slowing the others.
 */
export class RealtimeHub implements ConnectionHost {
  private readonly rooms = new Map<string, RoomEntry>();
  private readonly corked = new Set<WebSocket>();
  private uncorkScheduled = false;
  private readonly limiter: RateLimiterMemory;
  private connectionCount = 0;
  /** Sockets per user over all rooms (SEC-5). */
  private readonly userSockets = new Map<string, number>();
  private readonly offReconnect: () => void;

  constructor(readonly deps: HubDeps) {
    this.limiter = new RateLimiterMemory({
      points: deps.socketRate.points,
      duration: deps.socketRate.duration,
    });
    // RT-4: after a bus outage every room catches up from the op log.
    this.offReconnect = deps.bus.onReconnect(() => {
      for (const entry of this.rooms.values()) void entry.room.catchUp();
    });
  }

  get connections(): number {
    return this.connectionCount;
  }

  get socketRate(): RateRule {
    return this.deps.socketRate;
  }

  get subscriptionsPerSocket(): number {
    return this.deps.limits.subscriptionsPerSocket;
  }

  onError(error: unknown, context: string): void {
    this.deps.onError(error, context);
  }

  /**
   * Takes over an upgraded socket, or closes it with 4429 when its user already holds as many
   * sockets as SEC-5 allows (checked here, synchronously, so concurrent upgrades cannot overshoot).
   */
  accept(socket: WebSocket, info: ConnectionInfo): Connection | null {
    const userId = info.principal.userId;
    const { socketsPerUserCanvas, socketsPerUser } = this.deps.limits;
    const inCanvas = this.rooms.get(info.canvasId)?.users.get(userId) ?? 0;
    const total = this.userSockets.get(userId) ?? 0;
    if (inCanvas >= socketsPerUserCanvas || total >= socketsPerUser) {
      socket.close(
        CloseCodes.TOO_MANY_SOCKETS,
        `too many sockets: at most ${socketsPerUserCanvas} per canvas and ${socketsPerUser} per user`,
      );
      return null;
    }
    const entry = this.room(info.canvasId);
    const connection = new Connection(
      socket,
      info,
      this,
      this.deps.calls(info),
      this.limiter,
      `${userId}:${Math.random()}`,
    );
    entry.connections.add(connection);
    entry.users.set(userId, inCanvas + 1);
    this.userSockets.set(userId, total + 1);
    if (inCanvas === 0) entry.presence.userJoined(userId);
    this.connectionCount++;
    this.deps.onConnection?.(1);
    return connection;
  }

  /** Called by a closing connection. */
  forget(connection: Connection): void {
    const entry = this.rooms.get(connection.info.canvasId);
    if (entry?.connections.delete(connection)) {
      this.connectionCount--;
      this.deps.onConnection?.(-1);
      const userId = connection.userId;
      const total = (this.userSockets.get(userId) ?? 1) - 1;
      if (total > 0) this.userSockets.set(userId, total);
      else this.userSockets.delete(userId);
      const inCanvas = (entry.users.get(userId) ?? 1) - 1;
      if (inCanvas > 0) entry.users.set(userId, inCanvas);
      else {
        entry.users.delete(userId);
        entry.presence.userLeft(userId);
      }
      if (entry.connections.size === 0) void this.dropRoom(connection.info.canvasId);
    }
  }

  async attach(canvasId: string, sub: Subscriber, since: number | null): Promise<void> {
    const entry = this.room(canvasId);
    await entry.ready;
    const complete = await entry.room.attach(sub, since);
    if (!complete) {
      // RT-5: the replay window does not reach back to since_seq: reload a snapshot.
      sub.sendPlain(JSON.stringify({ type: "resync", server_seq: sub.lastSent }));
      sub.goLive();
    }
  }

  detach(canvasId: string, sub: Subscriber): void {
    this.rooms.get(canvasId)?.room.detach(sub);
  }

  /** Queues one frame on a socket; see the class comment. */
  send(socket: WebSocket, frame: string | Buffer): void {
    if (socket.readyState !== socket.OPEN) return;
    const raw = (socket as unknown as { _socket?: Socket })._socket;
    if (raw && !this.corked.has(socket)) {
      raw.cork();
      this.corked.add(socket);
      if (!this.uncorkScheduled) {
        this.uncorkScheduled = true;
        setImmediate(() => this.uncorkAll());
      }
    }
    socket.send(frame, TEXT);
    if (socket.bufferedAmount > this.deps.maxBufferedBytes) {
      socket.close(CloseCodes.SLOW_CONSUMER, "slow consumer: reconnect with since_seq");
      setTimeout(() => socket.terminate(), 1_000).unref();
    }
  }

  /** Closes every socket of a user (or all, when userId is null) in one canvas. */
  closeSockets(canvasId: string, userId: string | null, code: number, reason: string): void {
    const entry = this.rooms.get(canvasId);
    if (!entry) return;
    for (const connection of [...entry.connections]) {
      if (userId === null || connection.userId === userId) connection.close(code, reason);
    }
  }

  /** Closes everything (OPS-5: clients are told to reconnect elsewhere). */
  async close(): Promise<void> {
    this.offReconnect();
    for (const [canvasId, entry] of this.rooms) {
      for (const connection of [...entry.connections])
        connection.close(CloseCodes.GOING_AWAY, "server restarting");
      await this.dropRoom(canvasId);
    }
  }

  private uncorkAll(): void {
    this.uncorkScheduled = false;
    for (const socket of this.corked) (socket as unknown as { _socket?: Socket })._socket?.uncork();
    this.corked.clear();
  }

  private room(canvasId: string): RoomEntry {
    const existing = this.rooms.get(canvasId);
    if (existing) return existing;
    const room = new CanvasRoom(canvasId, {
      db: this.deps.db,
      bus: this.deps.bus,
      onError: this.deps.onError,
      onDelivered: this.deps.onDelivered,
    });
    const users = new Map<string, number>();
    const presence = new PresenceRoom<Subscriber>(canvasId, {
      presence: this.deps.presence,
      bus: this.deps.bus,
      receivers: () => room.subscribers,
      users: () => users.keys(),
      send: (sub, frame) => this.send(sub.socket, frame),
      onError: this.deps.onError,
    });
    const entry: RoomEntry = {
      room,
      presence,
      connections: new Set(),
      users,
      unsubscribe: [],
      ready: Promise.resolve(),
      timer: setInterval(() => void this.recheckMembers(canvasId), MEMBERSHIP_RECHECK_MS),
    };
    entry.timer.unref();
    entry.ready = (async () => {
      await room.open();
      await presence.open();
      entry.unsubscribe.push(
        await this.deps.bus.subscribe(canvasControlChannel(canvasId), (message) =>
          this.onControl(canvasId, message),
        ),
      );
    })();
    entry.ready.catch((error) => this.deps.onError(error, `room ${canvasId} open`));
    this.rooms.set(canvasId, entry);
    return entry;
  }

  private async dropRoom(canvasId: string): Promise<void> {
    const entry = this.rooms.get(canvasId);
    if (!entry) return;
    this.rooms.delete(canvasId);
    clearInterval(entry.timer);
    await entry.ready.catch(() => {});
    await Promise.all(entry.unsubscribe.map((u) => u().catch(() => {})));
    await entry.presence.close();
    await entry.room.close();
  }

  /** Membership and deletion messages from the canvas and member services (A7, members). */
  private onControl(canvasId: string, message: string): void {
    const event = JSON.parse(message) as { type?: string; user_id?: string; role?: string };
    if (event.type === "canvas_deleted")
      this.closeSockets(canvasId, null, CloseCodes.CANVAS_DELETED, "canvas deleted");
    if (event.type === "member_removed" && event.user_id) {
      this.closeSockets(canvasId, event.user_id, CloseCodes.FORBIDDEN, "access to this canvas was removed");
    }
  }

  /** RT-6: membership loss closes the socket within 5 s even when a control message was lost. */
  private async recheckMembers(canvasId: string): Promise<void> {
    const entry = this.rooms.get(canvasId);
    if (!entry || entry.connections.size === 0) return;
    try {
      const rows = await this.deps.db.query<{ user_id: string; last_seq: string | number | null }>(
        `SELECT m.user_id, c.last_seq FROM canvas_members m JOIN canvas c ON c.canvas_id = m.canvas_id
          WHERE m.canvas_id = $1 AND c.deleted_at IS NULL`,
        [canvasId],
      );
      // RT-4: a publish lost on the sending side (its Redis connection was down when this
      // process's had already come back) triggers no gap and no reconnect here: the same
      // periodic look at the canvas head catches up on it within seconds.
      const head = Number(rows[0]?.last_seq ?? 0);
      if (head > entry.room.deliveredSeq) void entry.room.catchUp();
      const members = new Set(rows.map((r) => r.user_id));
      for (const connection of [...entry.connections]) {
        if (!members.has(connection.userId)) {
          connection.close(
            rows.length === 0 ? CloseCodes.CANVAS_DELETED : CloseCodes.FORBIDDEN,
            "access to this canvas was removed",
          );
        }
      }
    } catch (error) {
      this.deps.onError(error, `room ${canvasId} membership check`);
    }
  }
}
