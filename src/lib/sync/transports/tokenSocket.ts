import { CloseCodes } from "../../../../server/protocol/closeCodes";
import type { SocketCtor, SocketLike } from "./socket";

/**
 * A browser WebSocket that fetches a fresh access token before it connects: the transport builds
 * a socket synchronously on every reconnect, and a token expiry closes the socket (4401), so the
 * token in a fixed URL would be stale by the second connect. A token that cannot be had closes
 * it as 4401 (the engine retries with backoff).
 */
export function tokenSocketClass(getToken: () => Promise<string>): SocketCtor {
  return class TokenSocket implements SocketLike {
    onopen: SocketLike["onopen"] = null;
    onmessage: SocketLike["onmessage"] = null;
    onclose: SocketLike["onclose"] = null;
    onerror: SocketLike["onerror"] = null;
    private real: WebSocket | null = null;
    private closed = false;

    constructor(url: string, protocols?: string | string[]) {
      getToken().then(
        (token) => {
          if (this.closed) return;
          const u = new URL(url);
          u.searchParams.set("token", token);
          const ws = new WebSocket(u.toString(), protocols);
          this.real = ws;
          ws.onopen = (ev) => this.onopen?.(ev);
          ws.onmessage = (ev) => this.onmessage?.({ data: ev.data });
          ws.onerror = (ev) => this.onerror?.(ev);
          ws.onclose = (ev) => this.onclose?.({ code: ev.code });
        },
        () => {
          if (this.closed) return;
          this.closed = true;
          this.onclose?.({ code: CloseCodes.TOKEN_EXPIRED });
        },
      );
    }

    get readyState(): number {
      if (this.real) return this.real.readyState;
      return this.closed ? 3 : 0;
    }

    send(data: string): void {
      this.real?.send(data);
    }

    close(code?: number, reason?: string): void {
      if (this.real) {
        this.real.close(code, reason);
        return;
      }
      if (this.closed) return;
      this.closed = true;
      queueMicrotask(() => this.onclose?.({ code: code ?? 1000 }));
    }
  };
}
