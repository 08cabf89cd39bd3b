import type { IncomingMessage, ServerResponse } from "node:http";
import { sendMethodNotAllowed } from "./problem";

export type CheckState = "ok" | "down" | "unavailable" | "in-process";

export interface ReadinessProbe {
  /** True once SIGTERM arrived: /ready answers 503 so the load balancer drains us (OPS-5). */
  draining(): boolean;
  db(): Promise<boolean>;
  /** null when Redis is not configured (single-node mode). */
  redis(): Promise<boolean> | null;
  vector(): Promise<boolean>;
}

const CHECK_TIMEOUT_MS = 2_000;

async function withTimeout(p: Promise<boolean>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), CHECK_TIMEOUT_MS);
  });
  try {
    return await Promise.race([p.catch(() => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
  res.end(text);
}

/**
 * M1 `/health`: the process answers, nothing else is checked.
 * M2 `/ready`: 200 while the database answers; Redis down is `degraded` but still 200, because
 * the API keeps accepting mutations without it (OPS-6); pgvector missing is reported as
 * `vector: "unavailable"` (DB-7) without failing readiness; draining is 503.
 */
export async function handleHealth(
  req: IncomingMessage,
  res: ServerResponse,
  probe: ReadinessProbe,
): Promise<boolean> {
  const path = (req.url ?? "/").split("?")[0];
  if (path !== "/health" && path !== "/ready") return false;
  if (req.method !== "GET" && req.method !== "HEAD") return sendMethodNotAllowed(req, res, ["GET", "HEAD"]);
  if (path === "/health") {
    sendJson(res, 200, { status: "ok" });
    return true;
  }
  const redisCheck = probe.redis();
  const [db, redis, vector] = await Promise.all([
    withTimeout(probe.db()),
    redisCheck ? withTimeout(redisCheck) : Promise.resolve(null),
    withTimeout(probe.vector()),
  ]);
  const checks: Record<string, CheckState> = {
    db: db ? "ok" : "down",
    redis: redis === null ? "in-process" : redis ? "ok" : "down",
    vector: vector ? "ok" : "unavailable",
  };
  const draining = probe.draining();
  const ready = db && !draining;
  const status = draining ? "draining" : !db ? "unavailable" : redis === false ? "degraded" : "ok";
  sendJson(res, ready ? 200 : 503, { status, checks });
  return true;
}
