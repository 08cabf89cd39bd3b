import type { IncomingMessage, ServerResponse } from "node:http";
import type { TokenVerifier } from "../auth/principal";
import type { Bus } from "../ports/bus";
import { userChannel } from "../protocol/channels";
import { sendMethodNotAllowed, sendProblem } from "./problem";

export const NOTIFICATIONS_PATH = "/api/v1/notifications/stream";
const HEARTBEAT_MS = 25_000;

/**
 * RT-8: `GET /api/v1/notifications/stream`, Server-Sent Events per user: added to a canvas,
 * role changed, removed, canvas renamed, canvas deleted (whatever the services publish on
 * `user:<id>`). The token comes as `Authorization: Bearer` or, for EventSource (which cannot set
 * headers), `?token=`. The stream ends when the token expires; the client reconnects with a fresh
 * one.
 */
export function createNotificationsHandler(deps: {
  tokens: TokenVerifier;
  bus: Bus;
  onError: (e: unknown) => void;
}) {
  const open = new Set<ServerResponse>();
  const handler = async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (url.pathname !== NOTIFICATIONS_PATH) return false;
    if (req.method !== "GET") return sendMethodNotAllowed(req, res, ["GET"]);
    const header = req.headers.authorization;
    const token =
      typeof header === "string" && /^bearer\s+/i.test(header)
        ? header.replace(/^bearer\s+/i, "").trim()
        : url.searchParams.get("token");
    if (!token) {
      sendProblem(res, 401, "unauthorized", "a valid bearer access token is required");
      return true;
    }
    let principal: Awaited<ReturnType<TokenVerifier["verify"]>>;
    try {
      principal = await deps.tokens.verify(token);
    } catch {
      sendProblem(res, 401, "unauthorized", "the access token is not valid");
      return true;
    }
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      // no-transform: a compressing hop (the web app's proxy gzips) would hold events back.
      "cache-control": "no-store, no-transform",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    });
    res.write(`retry: 3000\n: connected\n\n`);
    open.add(res);
    const unsubscribe = await deps.bus.subscribe(userChannel(principal.userId), (message) => {
      const type = (JSON.parse(message) as { type?: string }).type ?? "message";
      res.write(`event: ${type}\ndata: ${message}\n\n`);
    });
    const heartbeat = setInterval(() => res.write(": ping\n\n"), HEARTBEAT_MS);
    const expiry = setTimeout(
      () => res.end(),
      Math.max(0, Math.min(principal.expiresAt - Date.now(), 2 ** 31 - 1)),
    );
    heartbeat.unref();
    expiry.unref();
    res.on("close", () => {
      open.delete(res);
      clearInterval(heartbeat);
      clearTimeout(expiry);
      unsubscribe().catch(deps.onError);
    });
    return true;
  };
  return Object.assign(handler, {
    /** Ends every open stream (shutdown). */
    closeAll: () => {
      for (const res of open) res.end();
    },
  });
}
