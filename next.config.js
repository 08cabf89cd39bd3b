/**
 * The API server is a separate process; `src/proxy.ts` forwards `/api/v1/*` and `/trpc/*` to it
 * at run time, and the browser opens the WebSocket to it directly (docs/UI.md).
 */
/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
};

export default nextConfig;
