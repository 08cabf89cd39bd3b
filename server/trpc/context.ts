import type { IncomingMessage, ServerResponse } from "node:http";
import type { AppDeps } from "../deps";
import type { CanvasAccess } from "../auth/access";
import type { Principal } from "../auth/principal";
import { resolveClientAddress, type TrustedProxies } from "../domain/clientAddress";

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
  /**
   * A call on an open WebSocket (RT-2; server/trpc/socketCaller.ts). It spends the socket's own
   * message budget (RATE_LIMITS.H1, counted by the connection) instead of the HTTP routes' limits.
   */
  transport?: "socket";
  /**
   * Socket calls: the read access the upgrade proved for the socket's canvas (API-1). The room
   * closes the socket within 5 s of the user losing it (RT-6), so it stays true while the socket
   * lives; write access is still checked on every mutate.
   */
  canvasAccess?: CanvasAccess;
}

/**
 * SEC-4: the caller's address, for rate limits and audit rows: the rightmost X-Forwarded-For hop
 * that is not one of `TRUSTED_PROXIES` (the header is ignored unless the peer is one of them).
 */
export function clientIp(req: IncomingMessage, trusted: TrustedProxies): string {
  return resolveClientAddress(req.socket.remoteAddress, req.headers["x-forwarded-for"], trusted);
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
    ip: clientIp(req, deps.env.TRUSTED_PROXIES),
    userAgent: typeof ua === "string" ? ua.slice(0, 512) : null,
    ...(tokenError ? { tokenError } : {}),
  };
}
