"use client";

import { createParser } from "eventsource-parser";
import { useEffect, useState } from "react";

/** RT-8: the signed-in user's notifications (Server-Sent Events, docs/API.md). */
const STREAM_PATH = "/api/v1/notifications/stream";
/** Waits before reconnecting, growing with each failure in a row. */
const RETRY_MS = [1_000, 3_000, 10_000, 30_000] as const;
/** A stream that stayed open this long ended normally (token expiry, a restart): no backoff. */
const STABLE_MS = 10_000;

interface Titled {
  title: string;
  /** When the title was set (A1/A4 `updated_at`); a late message never undoes a newer rename. */
  updated_at?: string | undefined;
}

/** The newer of two titles by `updated_at`; one without a time never replaces one with. */
export function newerTitle(current: Titled, next: Titled): Titled {
  if (!next.updated_at) return current.updated_at ? current : next;
  if (!current.updated_at) return next;
  return Date.parse(next.updated_at) >= Date.parse(current.updated_at) ? next : current;
}

/** A `canvas_updated` message of the stream for this canvas, or null for anything else. */
export function renameOf(event: string | undefined, data: string, canvasId: string): Titled | null {
  if (event !== "canvas_updated") return null;
  try {
    const m = JSON.parse(data) as { canvas_id?: unknown; title?: unknown; updated_at?: unknown };
    if (m.canvas_id !== canvasId || typeof m.title !== "string") return null;
    return { title: m.title, updated_at: typeof m.updated_at === "string" ? m.updated_at : undefined };
  } catch {
    return null;
  }
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });

/** Resolves once the browser believes it is online (at once when it does): no attempts offline. */
const whenOnline = (signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (typeof navigator === "undefined" || navigator.onLine) return resolve();
    const done = () => {
      window.removeEventListener("online", done);
      resolve();
    };
    window.addEventListener("online", done);
    signal.addEventListener("abort", done);
  });

/**
 * The canvas's title as it is now: it follows a rename made anywhere while the editor is open.
 * The user's notification stream (RT-8) says `canvas_updated` with the new title; the token goes
 * in the Authorization header (never in a URL), so the stream is read with fetch. When the stream
 * broke (network, token expiry, a restart), the title is read once from A4 after it is back, so a
 * rename made meanwhile is not missed; while it cannot be opened, that read (per retry, backing
 * off to 30 s) is the fallback. Nothing is tried while the browser is offline.
 */
export function useLiveTitle(canvasId: string, initial: Titled, getToken: () => Promise<string>): string {
  const [shown, setShown] = useState<Titled>(initial);

  useEffect(() => {
    const abort = new AbortController();
    const { signal } = abort;
    const apply = (next: Titled) => setShown((current) => newerTitle(current, next));

    /** A4: the title as the server has it now (missed messages). */
    const readTitle = async () => {
      try {
        const res = await fetch("/api/v1/canvas", {
          headers: { authorization: `Bearer ${await getToken()}` },
          signal,
        });
        if (!res.ok) return;
        const { canvases } = (await res.json()) as { canvases: (Titled & { canvas_id: string })[] };
        const mine = canvases.find((c) => c.canvas_id === canvasId);
        if (mine) apply({ title: mine.title, updated_at: mine.updated_at });
      } catch {
        // Offline or closing: the next attempt reads it again.
      }
    };

    /** One stream until it ends; true when it was open at all. */
    const listen = async (onOpen: () => void): Promise<boolean> => {
      const res = await fetch(STREAM_PATH, {
        headers: { authorization: `Bearer ${await getToken()}`, accept: "text/event-stream" },
        cache: "no-store",
        signal,
      });
      if (!res.ok || !res.body) return false;
      onOpen();
      const parser = createParser({
        onEvent: (e) => {
          const rename = renameOf(e.event, e.data, canvasId);
          if (rename) apply(rename);
        },
      });
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return true;
        parser.feed(value);
      }
    };

    void (async () => {
      let failures = 0;
      let broken = false;
      while (!signal.aborted) {
        const started = Date.now();
        let opened = false;
        try {
          // Caught up once the new stream is open, so that nothing falls between the two.
          opened = await listen(() => {
            if (broken) void readTitle();
          });
        } catch {
          // Network gone, or unmounted.
        }
        if (signal.aborted) return;
        broken = true;
        failures = opened && Date.now() - started >= STABLE_MS ? 0 : failures + 1;
        await whenOnline(signal);
        // The stream stays unavailable: read the title instead, once per attempt.
        if (failures >= 2) void readTitle();
        await sleep(RETRY_MS[Math.min(failures, RETRY_MS.length - 1)] as number, signal);
      }
    })();
    return () => abort.abort();
  }, [canvasId, getToken]);

  return shown.title;
}
