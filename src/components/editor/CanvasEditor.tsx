"use client";

import Link from "next/link";
import { useSession } from "next-auth/react";
import { useEffect, useState } from "react";
import { useAccessToken } from "@/lib/api";
import { EditorSession } from "./EditorSession";
import styles from "./editor.module.css";
import type { CanvasLoad } from "./types";

type LoadState =
  | { kind: "loading" }
  | { kind: "ready"; data: CanvasLoad }
  | { kind: "missing" }
  | { kind: "forbidden" }
  | { kind: "failed"; message: string };

/** UI-2: loads the canvas (A1), then hands it to the editor; 404/403 get a way back. */
export function CanvasEditor({ canvasId }: { canvasId: string }) {
  const getToken = useAccessToken();
  const { data: session } = useSession();
  const [load, setLoad] = useState<LoadState>({ kind: "loading" });
  const [attempt, setAttempt] = useState(0);

  // biome-ignore lint/correctness/useExhaustiveDependencies: `attempt` is the retry trigger.
  useEffect(() => {
    let cancelled = false;
    setLoad({ kind: "loading" });
    (async () => {
      try {
        const res = await fetch(`/api/v1/canvas/${encodeURIComponent(canvasId)}`, {
          headers: { authorization: `Bearer ${await getToken()}` },
        });
        if (cancelled) return;
        if (res.status === 404 || res.status === 400) setLoad({ kind: "missing" });
        else if (res.status === 403) setLoad({ kind: "forbidden" });
        else if (!res.ok) setLoad({ kind: "failed", message: `The server answered ${res.status}.` });
        else setLoad({ kind: "ready", data: (await res.json()) as CanvasLoad });
      } catch (error) {
        if (!cancelled) setLoad({ kind: "failed", message: (error as Error).message });
      }
    })();
    return () => {
      cancelled = true;
    };
  }, [canvasId, getToken, attempt]);

  if (load.kind === "ready") {
    const user = session?.user;
    return (
      <EditorSession
        key={canvasId}
        canvasId={canvasId}
        load={load.data}
        getToken={getToken}
        me={{ id: user?.id ?? "", name: user?.name ?? "", email: user?.email ?? "" }}
      />
    );
  }
  if (load.kind === "loading") {
    return (
      <main className={styles.status} aria-busy="true">
        <p>Loading canvas…</p>
      </main>
    );
  }
  const message =
    load.kind === "missing"
      ? { title: "Canvas not found", body: "This canvas does not exist, or you are not a member of it." }
      : load.kind === "forbidden"
        ? { title: "No access", body: "You do not have access to this canvas." }
        : { title: "Could not load the canvas", body: load.message };
  return (
    <main className={styles.status}>
      <h1>{message.title}</h1>
      <p>{message.body}</p>
      <p>
        {load.kind === "failed" ? (
          <button type="button" className={styles.toolButton} onClick={() => setAttempt((a) => a + 1)}>
            Try again
          </button>
        ) : null}{" "}
        <Link href="/">Back to all canvases</Link>
      </p>
    </main>
  );
}
