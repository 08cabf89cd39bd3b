"use client";

import { useEffect, useState, useSyncExternalStore } from "react";
import { type BrowserEngineArgs, createBrowserEngine } from "./browserEngine";
import type { SyncEngine } from "./engine";
import type { SyncState } from "./options";

export type { RealtimeInfo } from "./browserEngine";

export type UseSyncEngineArgs = BrowserEngineArgs;

interface Entry {
  engine: SyncEngine;
  refs: number;
  stopTimer?: ReturnType<typeof setTimeout>;
}

// One engine per canvas in the page. React strict mode mounts, unmounts and remounts an effect at
// once: the release waits a tick so the remount picks up the same engine instead of a second one
// (two engines would each resend the same durable queue).
const engines = new Map<string, Entry>();

/** Callbacks are read through this holder so a re-render never needs a new engine. */
interface Handlers {
  current: Pick<UseSyncEngineArgs, "getToken" | "onConflict" | "onError" | "onOtherEvent">;
}

function acquire(args: UseSyncEngineArgs, handlers: Handlers): SyncEngine {
  const existing = engines.get(args.canvasId);
  if (existing) {
    if (existing.stopTimer !== undefined) clearTimeout(existing.stopTimer);
    existing.stopTimer = undefined;
    existing.refs++;
    return existing.engine;
  }
  const engine = createBrowserEngine({
    ...args,
    getToken: () => handlers.current.getToken(),
    onConflict: (r, op) => handlers.current.onConflict?.(r, op),
    onError: (e, op) => handlers.current.onError?.(e, op),
    onOtherEvent: (e) => handlers.current.onOtherEvent?.(e),
  });
  engines.set(args.canvasId, { engine, refs: 1 });
  void engine.start();
  return engine;
}

function release(canvasId: string, engine: SyncEngine): void {
  const entry = engines.get(canvasId);
  if (!entry || entry.engine !== engine) return;
  entry.refs--;
  if (entry.refs > 0) return;
  entry.stopTimer = setTimeout(() => {
    if (entry.refs > 0) return;
    engine.flush();
    engine.stop();
    engines.delete(canvasId);
  }, 0);
}

const emptyState: SyncState = {
  blocks: [],
  byId: new Map(),
  serverSeq: 0,
  connection: "offline",
  pendingCount: 0,
  conflicts: [],
  closedReason: null,
  writable: true,
};
const noopSubscribe = () => () => {};
const emptySnapshot = () => emptyState;

/**
 * The canvas's SyncEngine and its state (useSyncExternalStore). The engine is null until the
 * first effect ran (the server render has none). Pending keystrokes are flushed when the window
 * loses focus or the page is hidden.
 */
export function useSyncEngine(args: UseSyncEngineArgs): { engine: SyncEngine | null; state: SyncState } {
  const [handlers] = useState<Handlers>(() => ({ current: args }));
  handlers.current = args;
  const [engine, setEngine] = useState<SyncEngine | null>(null);
  const { canvasId } = args;

  // biome-ignore lint/correctness/useExhaustiveDependencies: A1's data seeds the engine once per canvas.
  useEffect(() => {
    const e = acquire(args, handlers);
    setEngine(e);
    const flush = () => e.flush();
    const onVisibility = () => {
      if (document.visibilityState === "hidden") e.flush();
    };
    window.addEventListener("blur", flush);
    window.addEventListener("pagehide", flush);
    document.addEventListener("visibilitychange", onVisibility);
    return () => {
      window.removeEventListener("blur", flush);
      window.removeEventListener("pagehide", flush);
      document.removeEventListener("visibilitychange", onVisibility);
      release(canvasId, e);
    };
  }, [canvasId]);

  // A1 may be reloaded with another mode (OPS-6 switched the canvas): follow it.
  useEffect(() => {
    engine?.setRealtimeMode(args.realtime.mode);
  }, [engine, args.realtime.mode]);

  const state = useSyncExternalStore(
    engine ? engine.subscribe : noopSubscribe,
    engine ? engine.getSnapshot : emptySnapshot,
    emptySnapshot,
  );
  return { engine, state };
}
