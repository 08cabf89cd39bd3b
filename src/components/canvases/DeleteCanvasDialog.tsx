"use client";

import { useState } from "react";
import { trpc } from "@/lib/api";
import { apiErrorMessage } from "./apiError";
import styles from "./canvases.module.css";
import { Modal } from "./Modal";
import type { CanvasSummary } from "./types";

/** Asks before deleting: the canvas goes for every member, with no undo. */
export function DeleteCanvasDialog({
  canvas,
  onClose,
  onDeleted,
}: {
  canvas: CanvasSummary;
  onClose(): void;
  onDeleted(): void;
}) {
  const utils = trpc.useUtils();
  const [error, setError] = useState<string | null>(null);
  const remove = trpc.canvas.delete.useMutation({
    onSuccess: async () => {
      await utils.canvas.list.invalidate();
      onDeleted();
    },
    onError: (e) => setError(apiErrorMessage(e)),
  });

  return (
    <Modal title={`Delete ${canvas.title}?`} onClose={onClose}>
      <p className={styles.dialogText}>
        The canvas and all its blocks are deleted for everyone who can see it. This cannot be undone.
      </p>
      {error ? (
        <p role="alert" className="alert">
          {error}
        </p>
      ) : null}
      <div className={styles.dialogActions}>
        {/* First in the dialog, so it gets focus: the safe choice. */}
        <button type="button" className="button secondary" onClick={onClose} disabled={remove.isPending}>
          Cancel
        </button>
        <button
          type="button"
          className="button danger"
          disabled={remove.isPending}
          onClick={() => {
            setError(null);
            remove.mutate({ canvas_id: canvas.canvas_id });
          }}
        >
          Delete
        </button>
      </div>
    </Modal>
  );
}
