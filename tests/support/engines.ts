/**
 * Real sync engines (src/lib) against the real API server (tests/support/apiHarness): one helper
 * for the tests that drive several clients — over the WebSocket or REST polling — and compare
 * what they end on with the database.
 */
import WebSocket from "ws";
import type { BlockJson } from "../../server/protocol/ops";
import { SyncEngine } from "../../src/lib/sync";
import { createMemoryPendingStore } from "../../src/lib/sync/pendingStore";
import { createRestTransport } from "../../src/lib/sync/transports/rest";
import { createWsTransport, type SocketCtor } from "../../src/lib/sync/transports/socket";
import type { SnapshotResult } from "../../src/lib/sync/types";
import type { TestApi, TestUser } from "./apiHarness";

export async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  ms = 20_000,
): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** H4 without since_seq: the canvas's live blocks and server_seq. */
export async function snapshotOf(
  user: TestUser,
  canvasId: string,
): Promise<Extract<SnapshotResult, { mode: "snapshot" }>> {
  const res = await user.fetch(`/api/v1/canvas/${canvasId}/snapshot`);
  if (res.status !== 200) throw new Error(`snapshot: HTTP ${res.status}`);
  return (await res.json()) as Extract<SnapshotResult, { mode: "snapshot" }>;
}

/**
 * An engine for `user` on `canvasId`: over the WebSocket when `ws`, else REST polling every 25 ms;
 * no pacing and short backoffs (the tests raise the server's limits). With `initial` it starts
 * from that snapshot (e.g. to make edits "offline" before `start()`).
 */
export function engineFor(
  api: TestApi,
  user: TestUser,
  canvasId: string,
  opts: { ws: boolean; initial?: { blocks: BlockJson[]; server_seq: number } },
): SyncEngine {
  const rest = createRestTransport({
    baseUrl: api.url,
    canvasId,
    getToken: () => user.token,
    pollIntervalMs: 25,
  });
  const socket = opts.ws
    ? createWsTransport({
        url: `${api.url.replace(/^http/, "ws")}/ws/canvas/${canvasId}?token=${user.token}`,
        WebSocket: WebSocket as unknown as SocketCtor,
        snapshot: rest.snapshot,
      })
    : undefined;
  return new SyncEngine({
    canvasId,
    store: createMemoryPendingStore(),
    rest,
    ...(socket ? { ws: socket, realtimeMode: "websocket" as const } : { realtimeMode: "polling" as const }),
    ...(opts.initial
      ? { initial: { blocks: structuredClone(opts.initial.blocks), server_seq: opts.initial.server_seq } }
      : {}),
    pacing: false,
    batchWindowMs: 0,
    maxBatchMs: 0,
    backoffBaseMs: 20,
    backoffMaxMs: 100,
  });
}

/** Limits raised so that the tests' engines are never refused for pace. */
export const GENEROUS_LIMITS = JSON.stringify({
  H1: { points: 100_000, duration: 1 },
  H2: { points: 100_000, duration: 1 },
  H3: { points: 100_000, duration: 1 },
  H4: { points: 100_000, duration: 1 },
  A1: { points: 100_000, duration: 1 },
  A3: { points: 100_000, duration: 1 },
  RPC: { points: 1_000_000, duration: 60 },
});

/** Canonical JSON (keys sorted at every level): equal strings mean byte-identical values. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** Blocks in document order, each as canonical JSON. */
export function canonicalBlocks(blocks: readonly BlockJson[]): string[] {
  return [...blocks].sort((a, b) => (a.y_order! < b.y_order! ? -1 : 1)).map(canonical);
}
