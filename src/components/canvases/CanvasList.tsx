"use client";

import { useRouter } from "next/navigation";
import { type FormEvent, useEffect, useRef, useState, useSyncExternalStore } from "react";
import { trpc } from "@/lib/api";
import { apiErrorMessage } from "./apiError";
import { CanvasItem } from "./CanvasItem";
import styles from "./canvases.module.css";
import { DeleteCanvasDialog } from "./DeleteCanvasDialog";
import { ShareDialog } from "./ShareDialog";
import type { CanvasSummary } from "./types";

/**
 * Another member may delete a canvas or remove us from it at any time: besides refetching on
 * window focus (react-query's default), the list refreshes this often while the tab is visible.
 */
const LIST_REFRESH_MS = 30_000;

type OpenDialog = { kind: "delete" | "share"; canvas: CanvasSummary } | null;

/** UI-1: the caller's canvases, create, and the owner's rename / share / delete. */
export function CanvasList({ userId }: { userId: string }) {
  const router = useRouter();
  const utils = trpc.useUtils();
  const list = trpc.canvas.list.useQuery({}, { refetchInterval: LIST_REFRESH_MS });
  const now = useNow(30_000);
  const [dialog, setDialog] = useState<OpenDialog>(null);
  const createInput = useRef<HTMLInputElement>(null);
  const hydrated = useHydrated();

  const [title, setTitle] = useState("");
  const [createError, setCreateError] = useState<string | null>(null);
  const create = trpc.canvas.create.useMutation({
    onSuccess: (canvas) => {
      // We are leaving the list: mark it stale for our return instead of spending an A4 call now.
      void utils.canvas.list.invalidate(undefined, { refetchType: "none" });
      router.push(`/canvas/${canvas.canvas_id}`);
    },
    onError: (error) => setCreateError(apiErrorMessage(error)),
  });

  function onCreate(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const trimmed = title.trim();
    if (!trimmed) {
      setCreateError("Give the canvas a title.");
      createInput.current?.focus();
      return;
    }
    setCreateError(null);
    create.mutate({ title: trimmed });
  }

  const canvases = list.data?.canvases ?? [];
  // A dialog whose canvas vanished (deleted elsewhere, access removed) has nothing left to act on.
  // Nor one whose owner is no longer us (we changed our own role in the share dialog).
  const dialogCanvas =
    dialog && canvases.find((c) => c.canvas_id === dialog.canvas.canvas_id && c.role === "owner");

  return (
    <div className={styles.page}>
      <h1 className={styles.title}>Your canvases</h1>

      <form className={styles.createForm} onSubmit={onCreate} noValidate>
        <label htmlFor="new-canvas-title" className="visually-hidden">
          New canvas title
        </label>
        <input
          id="new-canvas-title"
          ref={createInput}
          className="input"
          placeholder="New canvas title"
          value={title}
          maxLength={200}
          autoComplete="off"
          onChange={(e) => {
            setTitle(e.target.value);
            setCreateError(null);
          }}
          // Text typed before React takes over the server-rendered form would be lost.
          disabled={!hydrated}
          aria-invalid={createError ? true : undefined}
          aria-describedby={createError ? "new-canvas-error" : undefined}
        />
        <button type="submit" className="button" disabled={!hydrated || create.isPending || create.isSuccess}>
          Create canvas
        </button>
      </form>
      {createError ? (
        <p id="new-canvas-error" role="alert" className={`alert ${styles.formAlert}`}>
          {createError}
        </p>
      ) : null}

      {list.isPending ? (
        <p role="status" className={styles.muted}>
          Loading canvases…
        </p>
      ) : list.isError && !list.data ? (
        <div role="alert" className={`alert ${styles.listAlert}`}>
          <span>{apiErrorMessage(list.error)}</span>{" "}
          <button type="button" className="button secondary" onClick={() => void list.refetch()}>
            Try again
          </button>
        </div>
      ) : canvases.length === 0 ? (
        <p className={styles.empty}>No canvases yet — create one</p>
      ) : (
        <ul className={styles.list} aria-label="Canvases">
          {canvases.map((c) => (
            <CanvasItem
              key={c.canvas_id}
              canvas={c}
              now={now}
              onShare={() => setDialog({ kind: "share", canvas: c })}
              onDelete={() => setDialog({ kind: "delete", canvas: c })}
            />
          ))}
        </ul>
      )}

      {dialog?.kind === "delete" && dialogCanvas ? (
        <DeleteCanvasDialog
          canvas={dialogCanvas}
          onClose={() => setDialog(null)}
          onDeleted={() => {
            setDialog(null);
            // The button that opened the dialog is gone with its canvas: land somewhere useful.
            requestAnimationFrame(() => createInput.current?.focus());
          }}
        />
      ) : null}
      {dialog?.kind === "share" && dialogCanvas ? (
        <ShareDialog canvas={dialogCanvas} userId={userId} onClose={() => setDialog(null)} />
      ) : null}
    </div>
  );
}

/** The current time, re-read every `intervalMs`, so "Edited 2 minutes ago" stays true. */
function useNow(intervalMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}

const noSubscribe = () => () => {};
/** False in the server render and while hydrating, true once this component runs in the browser. */
function useHydrated(): boolean {
  return useSyncExternalStore(
    noSubscribe,
    () => true,
    () => false,
  );
}
