/**
 * OPS-4: A1's `realtime.ws_url`, from configuration only. A request's `Host` or
 * `X-Forwarded-Proto` is the client's word: an answer built from them (cached by a proxy, or
 * fetched by a page through the web app) could send browsers and their access tokens to any
 * host. So: `PUBLIC_WS_URL` when set, else the API's own address — the configured `HOST`
 * (loopback for a wildcard bind) and the port the server is listening on.
 */
export function realtimeWsUrl(
  config: { publicWsUrl?: string; host: string; port: number },
  canvasId: string,
): string {
  if (config.publicWsUrl) return `${config.publicWsUrl.replace(/\/+$/, "")}/ws/canvas/${canvasId}`;
  const wildcard = config.host === "0.0.0.0" || config.host === "::" || config.host === "[::]";
  const host = wildcard ? "127.0.0.1" : config.host;
  const authority = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  return `ws://${authority}:${config.port}/ws/canvas/${canvasId}`;
}
