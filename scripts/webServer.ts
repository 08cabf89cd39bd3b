/**
 * The web app's HTTP front (SEC-4): Next.js served by a plain Node server that sees each
 * request's socket. Before Next.js reads a request, its `X-Forwarded-For` is overwritten with the
 * browser's address: the socket's peer, or — when that peer is one of `TRUSTED_PROXIES` (a load
 * balancer in front of the web app) — the rightmost hop that is not. `src/proxy.ts` and sign-in
 * pass exactly that address on to the API, never a header the browser sent. Next.js alone cannot:
 * it only fills `X-Forwarded-For` in when the client sent none.
 *
 * `tsx scripts/webServer.ts [--dev]`: port `WEB_PORT`, address `HOST`. `npm run dev` and
 * `npm start` run it instead of `next dev` / `next start`.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { pathToFileURL } from "node:url";
import next from "next";
import {
  parseTrustedProxies,
  resolveClientAddress,
  type TrustedProxies,
} from "../server/domain/clientAddress";
import { WEB_FRONT_FLAG } from "../src/server/clientAddress";

/** Overwrites the request's forwarding headers with the one address the front believes. */
export function stampClientAddress(req: IncomingMessage, trusted: TrustedProxies): void {
  const client = resolveClientAddress(req.socket.remoteAddress, req.headers["x-forwarded-for"], trusted);
  req.headers["x-forwarded-for"] = client;
  delete req.headers["x-real-ip"];
  delete req.headers.forwarded;
}

export interface WebServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

export async function startWebServer(opts: {
  dev: boolean;
  port: number;
  hostname: string;
  trusted: TrustedProxies;
  dir?: string;
}): Promise<WebServer> {
  // proxy.ts and next-auth run in this process: they believe X-Forwarded-For only under the front.
  process.env[WEB_FRONT_FLAG] = "1";
  // As `next dev` / `next start` set it (Next.js reads it for its mode, types and React build).
  (process.env as Record<string, string>).NODE_ENV = opts.dev ? "development" : "production";
  const dir = opts.dir ?? path.resolve(import.meta.dirname, "..");
  const app = next({ dev: opts.dev, dir, hostname: opts.hostname, port: opts.port });
  await app.prepare();
  const handle = app.getRequestHandler();
  const upgrade = app.getUpgradeHandler();
  const server = createServer((req, res) => {
    stampClientAddress(req, opts.trusted);
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  // Development reloads (HMR) arrive as upgrades.
  server.on("upgrade", (req: IncomingMessage, socket, head) => {
    stampClientAddress(req, opts.trusted);
    upgrade(req, socket, head).catch(() => socket.destroy());
  });
  // As the API server (a768dc4): idle connections outlive a proxy's keep-alive.
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.hostname, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://${opts.hostname.includes(":") ? `[${opts.hostname}]` : opts.hostname}:${port}`,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      await app.close();
    },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const dev = process.argv.includes("--dev");
  let trusted: TrustedProxies;
  try {
    trusted = parseTrustedProxies(process.env.TRUSTED_PROXIES ?? "");
  } catch (error) {
    process.stderr.write(
      `potentia web: invalid configuration: TRUSTED_PROXIES ${(error as Error).message}\n`,
    );
    process.exit(78);
  }
  const web = await startWebServer({
    dev,
    port: Number(process.env.WEB_PORT ?? 3000),
    hostname: process.env.HOST ?? "127.0.0.1",
    trusted,
  });
  const stop = () => {
    web.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}
