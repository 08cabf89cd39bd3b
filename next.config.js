/**
 * The browser reaches the API server same-origin (docs/UI.md): `/api/v1/*` (REST) and `/trpc/*`
 * (tRPC over HTTP) are proxied to API_URL, so no CORS is needed. The WebSocket goes straight to
 * the API (A1's `realtime.ws_url`). API_URL is read when the app is built or started in dev.
 */
const apiUrl = (process.env.API_URL ?? `http://127.0.0.1:${process.env.API_PORT ?? 4000}`).replace(/\/$/, "");

/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  async rewrites() {
    return [
      { source: "/api/v1/:path*", destination: `${apiUrl}/api/v1/:path*` },
      { source: "/trpc/:path*", destination: `${apiUrl}/trpc/:path*` },
    ];
  },
};

export default nextConfig;
