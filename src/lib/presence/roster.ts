import { colorFor } from "./avatar";
import type { PresenceEvent } from "./parse";
import { PRESENCE_STALE_MS, REMOTE_TYPING_TTL_MS } from "./timing";
import type { OnlineUser, PresencePeer, PresenceState, PresenceUser } from "./types";

export interface PresenceRosterOptions {
  /** Our own user id: we are never one of "the others". */
  me: string;
  now: () => number;
  /** The others changed (an event, the list, an entry expiring). */
  onChange: () => void;
}

interface RemoteEntry extends PresencePeer {
  /** When the remote typing flag expires (epoch ms); 0 when not typing. */
  typingUntil: number;
  /** `stateClock` when cursor/typing were last set (from an event or the list); 0: never. */
  stateAt: number;
}

/**
 * UI-2 / RT-7, receiving: who else is here. The online list (`GET …/presence`) seeds the others, with each
 * one's last cursor and typing state; `join` adds, `leave` removes, `presence` (RT-10: one frame
 * holding every user that changed since the last) updates. An entry not heard from for 60 s is
 * dropped (a crashed tab sends no `leave`); a remote "typing" clears 4 s after its last
 * `typing: true`.
 */
export class PresenceRoster {
  private readonly remote = new Map<string, RemoteEntry>();
  /** Users who left while the online list was being fetched (the list may predate the leave). */
  private leftDuringFetch = new Set<string>();
  /** Counts state changes, so a list fetched before a live update cannot overwrite it. */
  private stateClock = 0;
  private sweepTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly o: PresenceRosterOptions) {}

  /** Everyone else, by name. */
  others(): PresencePeer[] {
    return [...this.remote.values()]
      .map(({ typingUntil: _, stateAt: __, ...peer }) => peer)
      .sort((a, b) => a.name.localeCompare(b.name) || a.user_id.localeCompare(b.user_id));
  }

  /** Forgets everyone and stops the expiry timer. */
  clear(): void {
    clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
    this.remote.clear();
  }

  /** An online list is about to be fetched: returns the mark `mergeOnline` needs. */
  beginFetch(): number {
    this.leftDuringFetch = new Set();
    return this.stateClock;
  }

  /** The online list fetched since `fetchedFrom` (beginFetch). */
  mergeOnline(users: readonly OnlineUser[], fetchedFrom: number): void {
    const now = this.o.now();
    let changed = false;
    for (const user of users) {
      if (user.user_id === this.o.me || this.leftDuringFetch.has(user.user_id)) continue;
      // The list vouches that they are still there, and carries their last state (all a polling
      // client hears of it); a state heard live since the fetch began is newer and is kept.
      const entry = this.remote.get(user.user_id) ?? this.entry(user, now);
      entry.lastSeen = Math.max(entry.lastSeen, now);
      if (user.state && entry.stateAt <= fetchedFrom) this.applyState(entry, user.state, now);
      this.remote.set(user.user_id, entry);
      changed = true;
    }
    if (changed) this.changed();
  }

  receive(event: PresenceEvent): void {
    const now = this.o.now();
    if (event.type === "leave") {
      this.leftDuringFetch.add(event.user_id);
      if (this.remote.delete(event.user_id)) this.changed();
      return;
    }
    if (event.type === "join") {
      for (const user of event.users) {
        if (user.user_id === this.o.me) continue;
        this.leftDuringFetch.delete(user.user_id);
        const existing = this.remote.get(user.user_id);
        if (existing) {
          existing.lastSeen = now;
          if (user.name) existing.name = user.name;
        } else {
          this.remote.set(user.user_id, this.entry(user, now));
        }
      }
      this.changed();
      return;
    }
    let changed = false;
    for (const user of event.users) {
      // Our own echo (this or another of our tabs) is not "someone else".
      if (user.user_id === this.o.me) continue;
      this.leftDuringFetch.delete(user.user_id);
      const entry = this.remote.get(user.user_id) ?? this.entry(user, now);
      if (user.name) entry.name = user.name;
      this.applyState(entry, user, now);
      entry.lastSeen = now;
      this.remote.set(user.user_id, entry);
      changed = true;
    }
    if (changed) this.changed();
  }

  private applyState(entry: RemoteEntry, state: PresenceState, now: number): void {
    entry.cursor = state.cursor;
    entry.block_id = state.block_id;
    entry.typing = state.typing;
    entry.typingUntil = state.typing ? now + REMOTE_TYPING_TTL_MS : 0;
    entry.stateAt = ++this.stateClock;
  }

  private entry(user: PresenceUser, now: number): RemoteEntry {
    return {
      user_id: user.user_id,
      name: user.name,
      color: colorFor(user.user_id),
      cursor: null,
      block_id: null,
      typing: false,
      typingUntil: 0,
      stateAt: 0,
      lastSeen: now,
    };
  }

  /** Drops stale entries and expired typing, then arms one timer for the next deadline. */
  private sweep = (): void => {
    this.sweepTimer = undefined;
    const now = this.o.now();
    let changed = false;
    for (const [id, entry] of this.remote) {
      if (now - entry.lastSeen >= PRESENCE_STALE_MS) {
        this.remote.delete(id);
        changed = true;
      } else if (entry.typing && now >= entry.typingUntil) {
        entry.typing = false;
        entry.typingUntil = 0;
        changed = true;
      }
    }
    if (changed) this.o.onChange();
    this.armSweep();
  };

  private armSweep(): void {
    clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
    let next = Number.POSITIVE_INFINITY;
    for (const entry of this.remote.values()) {
      next = Math.min(next, entry.lastSeen + PRESENCE_STALE_MS);
      if (entry.typing) next = Math.min(next, entry.typingUntil);
    }
    if (next !== Number.POSITIVE_INFINITY)
      this.sweepTimer = setTimeout(this.sweep, Math.max(0, next - this.o.now()));
  }

  private changed(): void {
    this.o.onChange();
    this.armSweep();
  }
}
