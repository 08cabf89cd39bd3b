"use client";

import type { PresenceTracker } from "../../lib/presence";
import styles from "./presence.module.css";
import { typingLines } from "./presenceView";
import { usePresenceSnapshot } from "./usePresenceSnapshot";

/**
 * UI-2: "{name} is typing…", one line per typist. The live region is always rendered (empty when
 * nobody types) so screen readers pick up the first change.
 */
export function TypingIndicator({ tracker }: { tracker: PresenceTracker | null }) {
  const snapshot = usePresenceSnapshot(tracker);
  const lines = typingLines(snapshot?.typing ?? []);
  return (
    <div aria-live="polite" className={styles.typingIndicator}>
      {lines.map((line) => (
        <span key={line.key} className={styles.typingLine}>
          <span className={styles.typingDots} aria-hidden="true" />
          {line.text}
        </span>
      ))}
    </div>
  );
}
