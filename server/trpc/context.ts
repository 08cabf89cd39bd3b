import type { IncomingMessage, ServerResponse } from "node:http";
import type { AppDeps } from "../app";
import type { Principal } from "../auth/principal";

export interface Context {
  deps: AppDeps;
  req: IncomingMessage;
  /** Present for HTTP requests: procedures may set response headers (rate-limit headers). */
  res?: ServerResponse;
  principal: Principal | null;
  ip: string;
  userAgent: string | null;
  /** Set when a bearer token was sent but did not verify (401 even on public routes that check). */
  tokenError?: string;
}

/** The caller's address; trusts X-Forwarded-For only from loopback (the load balancer's hop). */
export function clientIp(req: IncomingMessage): string {
  const remote = req.socket.remoteAddress ?? "unknown";
  const forwarded = req.headers["x-forwarded-for"];
  const isLoopback = remote === "127.0.0.1" || remote === "::1" || remote === "::ffff:127.0.0.1";
  if (isLoopback && typeof forwarded === "string" && forwarded.length > 0) {
    return forwarded.split(",")[0]!.trim();
  }
  return remote;
}

export async function createContext(
  deps: AppDeps,
  req: IncomingMessage,
  res: ServerResponse | undefined,
): Promise<Context> {
  const header = req.headers.authorization;
  let principal: Principal | null = null;
  let tokenError: string | undefined;
  if (typeof header === "string" && /^bearer\s+/i.test(header)) {
    try {
      principal = await deps.tokens.verify(header.replace(/^bearer\s+/i, "").trim());
    } catch (error) {
      tokenError = (error as Error).message;
    }
  }
  const ua = req.headers["user-agent"];
  return {
    deps,
    req,
    res,
    principal,
    ip: clientIp(req),
    userAgent: typeof ua === "string" ? ua.slice(0, 512) : null,
    ...(tokenError ? { tokenError } : {}),
  };
}
