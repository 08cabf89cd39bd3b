import type { Page, WebSocketRoute } from "@playwright/test";

/**
 * A man in the middle for a page's canvas sockets (`/ws/canvas/…`), via page.routeWebSocket:
 *
 * - `pass`: every frame is forwarded both ways;
 * - `hold`: the page's `sync.mutate` calls are kept back (everything else flows, so the page
 *   still receives other users' events) until `release()` sends them on, in order;
 * - `refuse`: every socket is closed as soon as it opens (and open ones are closed), so the sync
 *   engine counts failures and falls back to REST polling.
 */
type Mode = "pass" | "hold" | "refuse";

interface Link {
  page: WebSocketRoute;
  server: WebSocketRoute | null;
  held: string[];
  closed: boolean;
}

function isMutate(frame: string | Buffer): boolean {
  if (typeof frame !== "string") return false;
  try {
    const parsed = JSON.parse(frame) as { params?: { path?: string } };
    return parsed.params?.path === "sync.mutate";
  } catch {
    return false;
  }
}

export class SocketGate {
  private mode: Mode;
  private links: Link[] = [];
  /** Sockets the page opened (refused ones included). */
  opened = 0;

  private constructor(initial: Mode) {
    this.mode = initial;
  }

  /** Installs the gate on `page`; call before the page opens the editor. */
  static async install(page: Page, initial: Mode = "pass"): Promise<SocketGate> {
    const gate = new SocketGate(initial);
    await page.routeWebSocket(/\/ws\/canvas\//, (ws) => gate.accept(ws));
    return gate;
  }

  /** Mutations the page sent that are being held on live sockets. */
  get heldCount(): number {
    return this.links.filter((l) => !l.closed).reduce((n, l) => n + l.held.length, 0);
  }

  hold(): void {
    this.mode = "hold";
  }

  /** Sends the held mutations on and forwards everything from now on. */
  release(): void {
    this.mode = "pass";
    for (const link of this.links) {
      if (link.closed || !link.server) continue;
      for (const frame of link.held.splice(0)) link.server.send(frame);
    }
  }

  refuse(): void {
    this.mode = "refuse";
    for (const link of this.links) this.closeLink(link);
  }

  /** New sockets go through again (the engine's probe finds them). */
  allow(): void {
    this.mode = "pass";
  }

  private closeLink(link: Link): void {
    if (link.closed) return;
    link.closed = true;
    link.held = [];
    void link.page.close({ code: 1011, reason: "e2e: refused" }).catch(() => {});
    void link.server?.close().catch(() => {});
  }

  private accept(ws: WebSocketRoute): void {
    this.opened++;
    const link: Link = { page: ws, server: null, held: [], closed: false };
    this.links.push(link);
    if (this.mode === "refuse") {
      this.closeLink(link);
      return;
    }
    const server = ws.connectToServer();
    link.server = server;
    ws.onMessage((frame) => {
      if (link.closed) return;
      if (this.mode === "hold" && isMutate(frame)) link.held.push(String(frame));
      else server.send(frame);
    });
    server.onMessage((frame) => {
      if (!link.closed) ws.send(frame);
    });
    ws.onClose((code, reason) => {
      link.closed = true;
      void server.close({ code, reason }).catch(() => {});
    });
    server.onClose((code, reason) => {
      link.closed = true;
      void ws.close({ code, reason }).catch(() => {});
    });
  }
}
