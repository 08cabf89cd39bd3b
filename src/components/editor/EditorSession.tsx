"use client";

import { useCallback, useMemo, useState } from "react";
import type { Op } from "@/lib/sync";
import { useSyncEngine } from "@/lib/sync/useSyncEngine";
import { Editor } from "./Editor";
import styles from "./editor.module.css";
import type { CanvasLoad, Me } from "./types";
import { useLiveTitle } from "./useLiveTitle";

interface Props {
  canvasId: string;
  load: CanvasLoad;
  getToken: () => Promise<string>;
  me: Me;
}

function describeError(error: unknown): string {
  if (error && typeof error === "object" && "message" in error && typeof error.message === "string") {
    return error.message;
  }
  return "unknown error";
}

/** Owns the canvas's SyncEngine for as long as the editor is on screen. */
export function EditorSession({ canvasId, load, getToken, me }: Props) {
  const [error, setError] = useState<string | null>(null);
  // Only a rejected op is news to the user; connection trouble shows in the connection badge.
  const onError = useCallback((e: unknown, op?: Op) => {
    if (op) setError(`A change could not be saved: ${describeError(e)}`);
  }, []);
  const { engine, state } = useSyncEngine({
    canvasId,
    userId: me.id,
    initial: { blocks: load.blocks, server_seq: load.server_seq },
    realtime: load.realtime,
    getToken,
    onError,
  });
  // The heading and the document title follow a rename made elsewhere (RT-8).
  const title = useLiveTitle(canvasId, load.canvas, getToken);
  const canvas = useMemo(() => ({ ...load.canvas, title }), [load.canvas, title]);
  if (!engine) {
    return (
      <main className={styles.status} aria-busy="true">
        <p>Loading canvas…</p>
      </main>
    );
  }
  return (
    <Editor
      engine={engine}
      state={state}
      canvas={canvas}
      me={me}
      error={error}
      onDismissError={() => setError(null)}
    />
  );
}
