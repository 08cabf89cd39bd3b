import type { IncomingMessage, Server } from "node:http";
import { STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import { type WebSocket, WebSocketServer } from "ws";
import { authorizeCanvas, type CanvasAccess } from "../auth/access";
import type { TokenVerifier } from "../auth/principal";
import { resolveClientAddress, type TrustedProxies } from "../domain/clientAddress";
import { DomainError } from "../domain/errors";
import { CloseCodes } from "../protocol/closeCodes";
import { MAX_MESSAGE_BYTES } from "../protocol/limits";
import { RETIRED_SUBPROTOCOLS, SUBPROTOCOL } from "../protocol/version";
import type { RealtimeHub } from "./hub";

/** RT-6: heartbeat; a socket that missed one ping is dropped. */
export const HEARTBEAT_MS = 30_000;

const PATH = /^\/ws\/canvas\/([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$/;

export interface WsServerOptions {
  hub: RealtimeHub;
  tokens: TokenVerifier;
  allowedOrigins: readonly string[];
  heartbeatMs?: number;
  /** SEC-4: proxies whose X-Forwarded-For is believed (none by default). */
  trustedProxies?: TrustedProxies;
  /** False while draining (OPS-5): new sockets are refused with 503. */
  accepting: () => boolean;
}

function refuse(socket: Duplex, status: number, code: string, detail: string): void {
  const body = JSON.stringify({
    type: `https://potentia.dev/problems/${code}`,
    title: STATUS_CODES[status],
    status,
    detail,
    code,
  });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/problem+json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

function offeredProtocols(req: IncomingMessage): string[] {
  return String(req.headers["sec-websocket-protocol"] ?? "")
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p !== "");
}

/** The bearer token from `?token=` or a `bearer.<jwt>` subprotocol (RT-1). */
function tokenOf(req: IncomingMessage, url: URL): string | null {
  const fromQuery = url.searchParams.get("token");
  if (fromQuery) return fromQuery;
  const bearer = offeredProtocols(req).find((p) => p.startsWith("bearer."));
  return bearer ? bearer.slice("bearer.".length) : null;
}

/**
 * RT-9: the protocol version. A client that offers potentia.v2 gets it; one that offers no
 * version (e.g. @trpc/client's wsLink with `?token=`) speaks the current one; one that offers only
 * retired versions is refused before the upgrade.
 */
function speaksCurrentProtocol(req: IncomingMessage): boolean {
  const offered = offeredProtocols(req);
  return offered.includes(SUBPROTOCOL) || !offered.some((p) => RETIRED_SUBPROTOCOLS.includes(p));
}

/**
 * H1 `GET /ws/canvas/{canvas_id}` (RT-1): Origin, token and membership are checked on the
 * upgrade request and refused as plain HTTP (403 / 401 / 404) before any WebSocket exists.
 */
export function attachWebSockets(server: Server, opts: WsServerOptions): { close(): Promise<void> } {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_MESSAGE_BYTES,
    perMessageDeflate: false,
    // Select potentia.v2 when offered; never echo the bearer token back as the protocol.
    handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
  });
  const alive = new WeakMap<WebSocket, boolean>();

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", () => socket.destroy());
    void (async () => {
      const url = new URL(req.url ?? "/", "http://localhost");
      const match = PATH.exec(url.pathname);
      if (!match) return refuse(socket, 404, "not_found", "no such WebSocket endpoint");
      if (!opts.accepting())
        return refuse(socket, 503, "unavailable", "the server is shutting down; reconnect");
      if (!speaksCurrentProtocol(req)) {
        return refuse(
          socket,
          426,
          "unsupported_protocol",
          `this server speaks ${SUBPROTOCOL} (op events as deltas); ${RETIRED_SUBPROTOCOLS.join(", ")} is retired`,
        );
      }
      const origin = req.headers.origin;
      if (origin && !opts.allowedOrigins.includes(origin)) {
        return refuse(socket, 403, "origin_not_allowed", "this Origin may not open a socket");
      }
      const token = tokenOf(req, url);
      if (!token) return refuse(socket, 401, "unauthorized", "an access token is required");
      let principal: Awaited<ReturnType<TokenVerifier["verify"]>>;
      try {
        principal = await opts.tokens.verify(token);
      } catch {
        return refuse(socket, 401, "unauthorized", "the access token is not valid");
      }
      const canvasId = match[1]!.toLowerCase();
      let access: CanvasAccess;
      try {
        access = await authorizeCanvas(opts.hub.deps.db, principal, canvasId, "read");
      } catch (error) {
        if (error instanceof DomainError) return refuse(socket, 404, "canvas_not_found", "no such canvas");
        throw error;
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        alive.set(ws, true);
        ws.on("pong", () => alive.set(ws, true));
        const ua = req.headers["user-agent"];
        opts.hub.accept(ws, {
          principal,
          canvasId,
          // SEC-4: the same rule as HTTP's (trpc/context), imported from where it lives.
          ip: resolveClientAddress(
            req.socket.remoteAddress,
            req.headers["x-forwarded-for"],
            opts.trustedProxies ?? [],
          ),
          userAgent: typeof ua === "string" ? ua.slice(0, 512) : null,
          access,
          req,
        });
      });
    })().catch((error) => {
      opts.hub.deps.onError(error, "ws upgrade");
      refuse(socket, 500, "internal", "an unexpected error occurred");
    });
  };
  server.on("upgrade", onUpgrade);

  const heartbeat = setInterval(() => {
    for (const ws of wss.clients) {
      if (alive.get(ws) === false) {
        ws.terminate();
        continue;
      }
      alive.set(ws, false);
      ws.ping();
    }
  }, opts.heartbeatMs ?? HEARTBEAT_MS);
  heartbeat.unref();

  return {
    async close() {
      server.off("upgrade", onUpgrade);
      clearInterval(heartbeat);
      await opts.hub.close();
      for (const ws of wss.clients) ws.close(CloseCodes.GOING_AWAY, "server restarting");
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
