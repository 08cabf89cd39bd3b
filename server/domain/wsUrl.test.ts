import { describe, expect, it } from "vitest";
import { realtimeWsUrl } from "./wsUrl";

const id = "0b3c7f4e-8a52-4c8e-9d1e-2f6a7b8c9d0e";

describe("OPS-4 ws_url from configuration", () => {
  it("OPS-4: PUBLIC_WS_URL wins (a trailing slash is dropped)", () => {
    expect(realtimeWsUrl({ publicWsUrl: "wss://rt.example.com/", host: "0.0.0.0", port: 4000 }, id)).toBe(
      `wss://rt.example.com/ws/canvas/${id}`,
    );
  });

  it("OPS-4: without it, the configured HOST and the listening port (loopback for a wildcard bind)", () => {
    expect(realtimeWsUrl({ host: "127.0.0.1", port: 4123 }, id)).toBe(`ws://127.0.0.1:4123/ws/canvas/${id}`);
    expect(realtimeWsUrl({ host: "0.0.0.0", port: 4000 }, id)).toBe(`ws://127.0.0.1:4000/ws/canvas/${id}`);
    expect(realtimeWsUrl({ host: "::1", port: 4000 }, id)).toBe(`ws://[::1]:4000/ws/canvas/${id}`);
  });
});
