import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Env } from "../env";
import type { Metrics } from "../observability/metrics";
import type { Limiter } from "../ports/limiter";
import { clientIp } from "../trpc/context";
import { rateLimitHeaders } from "../trpc/rateLimit";
import { readJsonBody, sendMethodNotAllowed, sendProblem } from "./problem";

export interface InternalDeps {
  env: Pick<Env, "INTERNAL_TOKEN" | "NODE_ENV" | "RATE_LIMITS" | "TRUSTED_PROXIES">;
  limiter: Limiter;
  metrics: Metrics;
}

const ECHO_PATH = "/debug/echo";
const METRICS_PATH = "/metrics";
const MAX_ECHO_BYTES = 256 * 1024;

const LOOPBACK = new Set(["127.0.0.1", "::1", "::ffff:127.0.0.1"]);

function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}

/**
 * API-4: with `INTERNAL_TOKEN` set, only `Authorization: Bearer <INTERNAL_TOKEN>` passes (compared
 * in constant time), wherever the request comes from. Without it, only a direct loopback peer
 * passes: a request carrying `X-Forwarded-For`/`Forwarded` came through a proxy on this host and
 * may be anyone's, so it is refused.
 */
export function internalAccess(
  req: IncomingMessage,
  token: string | undefined,
): "ok" | "unauthorized" | "forbidden" {
  if (token) {
    const header = req.headers.authorization;
    const sent = typeof header === "string" ? header.replace(/^bearer\s+/i, "").trim() : "";
    const ok = /^bearer\s+/i.test(header ?? "") && timingSafeEqual(digest(sent), digest(token));
    return ok ? "ok" : "unauthorized";
  }
  const proxied = req.headers["x-forwarded-for"] !== undefined || req.headers.forwarded !== undefined;
  return !proxied && LOOPBACK.has(req.socket.remoteAddress ?? "") ? "ok" : "forbidden";
}

/**
 * The internal routes: M3 `POST /debug/echo` (the JSON body back; 404 when NODE_ENV=production;
 * rate rule M3 per IP) and S1 `GET /metrics` (Prometheus text of this instance). Returns false
 * for any other path.
 */
export async function handleInternal(
  req: IncomingMessage,
  res: ServerResponse,
  deps: InternalDeps,
): Promise<boolean> {
  const pathname = (req.url ?? "/").split("?")[0];
  if (pathname !== ECHO_PATH && pathname !== METRICS_PATH) return false;
  // Early answers leave the body unread: drain it (after answering) so the connection stays usable.
  res.once("finish", () => req.resume());
  if (pathname === ECHO_PATH && deps.env.NODE_ENV === "production") {
    sendProblem(res, 404, "not_found", "no such route");
    return true;
  }
  const access = internalAccess(req, deps.env.INTERNAL_TOKEN);
  if (access === "unauthorized") {
    res.setHeader("WWW-Authenticate", 'Bearer realm="internal"');
    sendProblem(res, 401, "unauthorized", "internal routes need the internal bearer token");
    return true;
  }
  if (access === "forbidden") {
    sendProblem(
      res,
      403,
      "forbidden",
      "internal routes answer only on loopback when no internal token is set",
    );
    return true;
  }

  if (pathname === METRICS_PATH) {
    if (req.method !== "GET" && req.method !== "HEAD") return sendMethodNotAllowed(req, res, ["GET", "HEAD"]);
    const text = await deps.metrics.text();
    res.writeHead(200, { "content-type": deps.metrics.contentType, "cache-control": "no-store" });
    res.end(req.method === "HEAD" ? undefined : text);
    return true;
  }

  if (req.method !== "POST") return sendMethodNotAllowed(req, res, ["POST"]);
  const rule = deps.env.RATE_LIMITS.M3;
  const limit = await deps.limiter.consume("M3", `ip:${clientIp(req, deps.env.TRUSTED_PROXIES)}`, rule);
  for (const [name, value] of Object.entries(rateLimitHeaders(limit))) res.setHeader(name, value);
  if (!limit.allowed) {
    deps.metrics.rateLimited("M3");
    const retryAfter = Number(res.getHeader("Retry-After"));
    sendProblem(res, 429, "rate_limited", `Rate limit M3 exceeded; retry in ${retryAfter} s.`, {
      rule: "M3",
      limit: limit.limit,
      retry_after_s: retryAfter,
    });
    return true;
  }
  const body = await readJsonBody(req, res, MAX_ECHO_BYTES);
  if (body === undefined) return true; // a problem was sent
  const text = JSON.stringify(body.value);
  res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
  return true;
}
