/**
 * The physical baseline of `npm run bench:fanout`: a bare `ws` relay. Every text message a
 * socket sends goes to every other receiving socket, as is — no auth, no parsing, no persistence,
 * no envelope. Sockets opened with `?w=1` are writers: they send but receive nothing, like the
 * product's writer sockets that do not subscribe.
 *
 * Run in its own process (its CPU is measured apart from the clients'):
 *   node --import tsx tests/bench/bareRelay.ts      → prints {"relay":"ws://127.0.0.1:<port>"}
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { type WebSocket, WebSocketServer } from "ws";

const receivers = new Set<WebSocket>();
const server = createServer((_req, res) => {
  res.writeHead(404).end();
});
const wss = new WebSocketServer({ server, perMessageDeflate: false, maxPayload: 64 * 1024 });

wss.on("connection", (ws, req) => {
  const writer = (req.url ?? "").includes("w=1");
  if (!writer) receivers.add(ws);
  ws.on("message", (data, isBinary) => {
    for (const other of receivers) if (other !== ws) other.send(data, { binary: isBinary });
  });
  const drop = () => receivers.delete(ws);
  ws.on("close", drop);
  ws.on("error", drop);
});

server.listen(Number(process.env.RELAY_PORT ?? 0), "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ relay: `ws://127.0.0.1:${port}` })}\n`);
});

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    for (const ws of wss.clients) ws.terminate();
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 1_000).unref();
  });
}
