"use client";

import { initialsOf, type PresencePeer, type PresenceTracker } from "../../lib/presence";
import type { ConnectionState } from "../../lib/sync";
import styles from "./presence.module.css";
import { CONNECTION_TEXT, CONNECTION_TITLE, splitAvatars, unsentText } from "./presenceView";
import { usePresenceSnapshot } from "./usePresenceSnapshot";

export interface PresenceBarProps {
  tracker: PresenceTracker | null;
  /** The engine's snapshot (SyncState) or just these two fields of it. */
  state: { connection: ConnectionState; pendingCount: number };
  /** Avatars shown before the rest collapse into "+n". */
  maxAvatars?: number;
}

/** UI-2: who is online (you first) and the connection badge, for the editor's header. */
export function PresenceBar({ tracker, state, maxAvatars = 6 }: PresenceBarProps) {
  const snapshot = usePresenceSnapshot(tracker);
  const { shown, hidden } = splitAvatars(snapshot?.others ?? [], maxAvatars);
  return (
    <div className={styles.bar}>
      <ul aria-label="Online now" className={styles.avatars}>
        {snapshot && <Avatar peer={snapshot.me} you />}
        {shown.map((peer) => (
          <Avatar key={peer.user_id} peer={peer} />
        ))}
        {hidden.length > 0 && (
          <li
            className={styles.avatarItem}
            aria-label={`${hidden.length} more online`}
            title={hidden.map((peer) => peer.name).join(", ")}
          >
            <span className={`${styles.avatar} ${styles.more}`} aria-hidden="true">
              +{hidden.length}
            </span>
          </li>
        )}
      </ul>
      <ConnectionBadge connection={state.connection} pendingCount={state.pendingCount} />
    </div>
  );
}

function Avatar({ peer, you = false }: { peer: PresencePeer; you?: boolean }) {
  const name = peer.name || "Someone";
  return (
    <li
      className={styles.avatarItem}
      aria-label={name}
      title={you ? `${name} (you)` : peer.typing ? `${name} (typing)` : name}
      data-you={you || undefined}
    >
      <span className={styles.avatar} style={{ backgroundColor: peer.color }} aria-hidden="true">
        {initialsOf(name)}
      </span>
      {you && (
        <span className={styles.you} aria-hidden="true">
          (you)
        </span>
      )}
    </li>
  );
}

/** `role="status"` named "Connection" (docs/UI.md): state text, a coloured dot, "{n} unsent". */
export function ConnectionBadge({ connection, pendingCount }: PresenceBarProps["state"]) {
  const unsent = unsentText(pendingCount);
  return (
    <div
      role="status"
      aria-label="Connection"
      className={styles.badge}
      data-state={connection}
      title={CONNECTION_TITLE[connection]}
    >
      <span className={styles.dot} aria-hidden="true" />
      <span>{CONNECTION_TEXT[connection]}</span>
      {unsent && (
        <>
          <span className={styles.sep} aria-hidden="true">
            ·
          </span>
          <span className={styles.unsent}>{unsent}</span>
        </>
      )}
    </div>
  );
}
