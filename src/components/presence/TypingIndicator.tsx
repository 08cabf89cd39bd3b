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
          {/* The typist's own colour (as their avatar and cursor): same names stay apart. */}
          <span className={styles.typingDots} style={{ color: line.color }} aria-hidden="true" />
          {line.name !== undefined ? (
            <>
              <bdi>{line.name}</bdi> is typing…
            </>
          ) : (
            line.text
          )}
        </span>
      ))}
    </div>
  );
}
