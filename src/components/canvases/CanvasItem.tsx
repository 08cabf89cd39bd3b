"use client";

import Link from "next/link";
import { type FormEvent, type KeyboardEvent, useEffect, useRef, useState } from "react";
import { trpc } from "@/lib/api";
import { apiErrorMessage } from "./apiError";
import styles from "./canvases.module.css";
import { lastEdited, relativeTime } from "./relativeTime";
import type { CanvasSummary } from "./types";

/** One canvas in the list: link, role, "Edited …", and (owner only) rename / share / delete. */
export function CanvasItem({
  canvas,
  now,
  onShare,
  onDelete,
}: {
  canvas: CanvasSummary;
  now: number;
  onShare(): void;
  onDelete(): void;
}) {
  const [renaming, setRenaming] = useState(false);
  const renameButton = useRef<HTMLButtonElement>(null);
  const isOwner = canvas.role === "owner";
  const edited = lastEdited(canvas);

  function stopRenaming() {
    setRenaming(false);
    // Back to the control that started it (after React has put it back in the DOM).
    requestAnimationFrame(() => renameButton.current?.focus());
  }

  return (
    <li className={styles.item}>
      <div className={styles.itemMain}>
        {renaming ? (
          <RenameForm canvas={canvas} onDone={stopRenaming} />
        ) : (
          <Link href={`/canvas/${canvas.canvas_id}`} className={styles.itemTitle}>
            {canvas.title}
          </Link>
        )}
        <div className={styles.meta}>
          <span className={styles.role} data-role={canvas.role}>
            {canvas.role}
          </span>
          <span aria-hidden="true">·</span>
          <span>
            Edited{" "}
            <time dateTime={edited} title={new Date(edited).toLocaleString()}>
              {relativeTime(edited, now)}
            </time>
          </span>
        </div>
      </div>
      {isOwner && !renaming ? (
        <div className={styles.actions}>
          <button
            ref={renameButton}
            type="button"
            className="button secondary"
            aria-label={`Rename ${canvas.title}`}
            onClick={() => setRenaming(true)}
          >
            Rename
          </button>
          <button
            type="button"
            className="button secondary"
            aria-label={`Share ${canvas.title}`}
            onClick={onShare}
          >
            Share
          </button>
          <button
            type="button"
            className={`button secondary ${styles.dangerText}`}
            aria-label={`Delete ${canvas.title}`}
            onClick={onDelete}
          >
            Delete
          </button>
        </div>
      ) : null}
    </li>
  );
}

function RenameForm({ canvas, onDone }: { canvas: CanvasSummary; onDone(): void }) {
  const utils = trpc.useUtils();
  const [value, setValue] = useState(canvas.title);
  const [error, setError] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);
  const errorId = `rename-error-${canvas.canvas_id}`;
  const rename = trpc.canvas.update.useMutation({
    onSuccess: async () => {
      await utils.canvas.list.invalidate();
      onDone();
    },
    onError: (e) => setError(apiErrorMessage(e)),
  });

  useEffect(() => {
    input.current?.focus();
    input.current?.select();
  }, []);

  function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const title = value.trim();
    if (!title) {
      setError("A title needs 1 to 200 characters.");
      return;
    }
    if (title === canvas.title) {
      onDone();
      return;
    }
    setError(null);
    rename.mutate({ canvas_id: canvas.canvas_id, title });
  }

  function onKeyDown(e: KeyboardEvent<HTMLFormElement>) {
    if (e.key === "Escape") {
      e.preventDefault();
      onDone();
    }
  }

  return (
    <form className={styles.renameForm} onSubmit={onSubmit} onKeyDown={onKeyDown} noValidate>
      <input
        ref={input}
        className="input"
        aria-label={`Title for ${canvas.title}`}
        value={value}
        maxLength={200}
        autoComplete="off"
        onChange={(e) => setValue(e.target.value)}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? errorId : undefined}
      />
      <button type="submit" className="button" disabled={rename.isPending}>
        Save
      </button>
      <button type="button" className="button secondary" onClick={onDone} disabled={rename.isPending}>
        Cancel
      </button>
      {error ? (
        <p id={errorId} role="alert" className={`alert ${styles.inlineAlert}`}>
          {error}
        </p>
      ) : null}
    </form>
  );
}
