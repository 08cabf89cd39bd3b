"use client";

import { type ReactNode, useEffect, useId, useRef } from "react";
import styles from "./canvases.module.css";

/**
 * A native modal <dialog> (role=dialog, focus kept inside, Escape closes), opened on mount and
 * named by its heading. Focus goes back to whatever opened it.
 */
export function Modal({ title, onClose, children }: { title: string; onClose(): void; children: ReactNode }) {
  const headingId = useId();
  const ref = useRef<HTMLDialogElement>(null);
  const onCloseRef = useRef(onClose);
  onCloseRef.current = onClose;

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (!dialog.open) dialog.showModal();
    // Escape (and form method=dialog) close the dialog natively; the owner unmounts it then.
    // `close` is dispatched later: one from a cleanup that was followed by a re-open (React's
    // development double effects) finds the dialog open again and means nothing.
    const handleClose = () => {
      if (!dialog.open) onCloseRef.current();
    };
    dialog.addEventListener("close", handleClose);
    return () => {
      dialog.removeEventListener("close", handleClose);
      if (dialog.open) dialog.close();
      if (opener?.isConnected) opener.focus();
    };
  }, []);

  return (
    <dialog ref={ref} className={styles.dialog} aria-labelledby={headingId}>
      <h2 id={headingId} className={styles.dialogTitle}>
        {title}
      </h2>
      {children}
    </dialog>
  );
}
