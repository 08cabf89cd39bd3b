/**
 * UI-2 / RT-7: who else is on this canvas, where their pointer is, and whether they are typing.
 * Framework-free (subscribe/getSnapshot for useSyncExternalStore); the React side lives in
 * src/components/presence.
 *
 * Receiving: the initial online list (A8) seeds the others, with each one's last cursor and
 * typing state; `join` adds, `leave` removes, `presence` (RT-10: one frame holding every user
 * that changed since the last) updates. A polling client reloads the A8 list instead, so it sees
 * cursors too. An entry not heard from for 60 s is dropped (a crashed tab sends no `leave`); a
 * remote "typing" clears 4 s after its last `typing: true`.
 *
 * Sending: every presence message carries our whole state (cursor, block_id, typing), because
 * the server fills omitted fields with null/false (H3) — a heartbeat must not erase the cursor.
 * All sends go through one throttle with a trailing send, so the last position always arrives.
 */

export interface PresenceUser {
  user_id: string;
  name: string;
}

export interface CursorPoint {
  x: number;
  y: number;
}

/** One user's live state, as `presence` frames (RT-10) and A8's `users[].presence` carry it. */
export interface PresenceState {
  cursor: CursorPoint | null;
  block_id: string | null;
  typing: boolean;
}

/** An A8 user who is online, with their last known state when the server has one. */
export interface OnlineUser extends PresenceUser {
  state?: PresenceState;
}

/** What `sync.presence` / H3 accept. */
export interface PresenceInput {
  cursor?: CursorPoint | null;
  block_id?: string | null;
  typing?: boolean;
}

/**
 * The part of the sync engine presence needs (SyncEngine.sendPresence / onPresence). Events are
 * typed `unknown` here on purpose: they come off the network and are parsed by the tracker.
 */
export interface PresenceEngine {
  sendPresence(input: PresenceInput): void;
  onPresence(listener: (event: unknown) => void): () => void;
}

export interface PresencePeer {
  user_id: string;
  name: string;
  /** Stable per user (hash of user_id), from PRESENCE_COLORS. */
  color: string;
  /** px relative to the top-left of the element of `block_id`. */
  cursor: CursorPoint | null;
  block_id: string | null;
  typing: boolean;
  /** Epoch ms of the last message from this user (presence, join or the initial list). */
  lastSeen: number;
}

export interface PresenceSnapshot {
  me: PresencePeer;
  /** Everyone else, by name. */
  others: readonly PresencePeer[];
  /** The subset of `others` currently typing. */
  typing: readonly PresencePeer[];
}

/** Where page visibility comes from (the document by default; injected in tests). */
export interface VisibilitySource {
  isVisible(): boolean;
  onChange(listener: () => void): () => void;
}

export interface PresenceTrackerOptions {
  engine: PresenceEngine;
  me: PresenceUser;
  /** The members online now (A8 `users` with `online: true`), with their state when known. */
  fetchOnline: () => Promise<OnlineUser[]>;
  visibility?: VisibilitySource;
  now?: () => number;
  onError?: (error: unknown) => void;
  /**
   * Minimum gap between two sends. The brief allows 20/s, but the server allows 10 messages/s
   * per socket shared with mutations (H1) and 5/s on REST (H3), so the default is 4/s; remote
   * cursors glide between updates with a CSS transition.
   */
  sendIntervalMs?: number;
}

export const PRESENCE_SEND_INTERVAL_MS = 250;
/** A remote entry is dropped after this long without any message from it. */
export const PRESENCE_STALE_MS = 60_000;
/** A remote "typing" clears after this long without a new `typing: true`. */
export const REMOTE_TYPING_TTL_MS = 4_000;
/** While we type, `typing: true` is repeated at most this often (keeps the remote TTL alive). */
export const TYPING_REPEAT_MS = 2_000;
/** `typing: false` is sent this long after our last keystroke. */
export const TYPING_IDLE_MS = 2_000;
/** We send at least this often while the page is visible, so we stay in the online list. */
export const HEARTBEAT_MS = 20_000;

/**
 * Eight hues dark enough for white initials (contrast ≥ 4.5:1, WCAG AA; checked in
 * presence.test.ts) and distinct from each other.
 */
export const PRESENCE_COLORS = [
  "#b42318", // red
  "#b54708", // orange
  "#027a48", // green
  "#0e7090", // teal
  "#175cd3", // blue
  "#5925dc", // violet
  "#c11574", // pink
  "#854a0e", // brown
] as const;

/** FNV-1a over the UTF-16 code units: a stable colour per user on every client. */
export function colorFor(userId: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < userId.length; i++) {
    hash ^= userId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return PRESENCE_COLORS[hash % PRESENCE_COLORS.length] ?? PRESENCE_COLORS[0];
}

/** "Ada Lovelace" → "AL", "ada" → "A", "" → "?" (code points, so emoji and accents survive). */
export function initialsOf(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  const first = words[0];
  if (!first) return "?";
  const last = words.length > 1 ? words[words.length - 1] : undefined;
  const letter = (word: string) => Array.from(word)[0] ?? "";
  return (letter(first) + (last ? letter(last) : "")).toLocaleUpperCase();
}

/** A8's answer → the members online now; anything malformed is skipped, never thrown. */
export function parseOnlineUsers(body: unknown): OnlineUser[] {
  if (!isRecord(body) || !Array.isArray(body.users)) return [];
  const out: OnlineUser[] = [];
  for (const user of body.users) {
    if (!isRecord(user) || user.online !== true || typeof user.user_id !== "string") continue;
    const entry: OnlineUser = { user_id: user.user_id, name: typeof user.name === "string" ? user.name : "" };
    if (isRecord(user.presence)) entry.state = parseState(user.presence);
    out.push(entry);
  }
  return out;
}

/** One user of a `presence` frame. */
export interface PresenceEntry extends PresenceUser, PresenceState {}

type IncomingEvent =
  | { type: "presence"; users: PresenceEntry[] }
  | { type: "join"; users: PresenceUser[] }
  | { type: "leave"; user_id: string };

function parseState(raw: Record<string, unknown>): PresenceState {
  const c = raw.cursor;
  const cursor =
    isRecord(c) && Number.isFinite(c.x) && Number.isFinite(c.y)
      ? { x: c.x as number, y: c.y as number }
      : null;
  return {
    cursor,
    typing: raw.typing === true,
    block_id: typeof raw.block_id === "string" ? raw.block_id : null,
  };
}

function parseEntry(raw: unknown): PresenceEntry | null {
  if (!isRecord(raw) || typeof raw.user_id !== "string") return null;
  return { user_id: raw.user_id, name: typeof raw.name === "string" ? raw.name : "", ...parseState(raw) };
}

/**
 * RT-3 presence/join/leave, validated at the edge; null for anything else. A `presence` event is
 * RT-10's batch `{ type, users: [...] }`; a one-user event (`{ type, user_id, … }`, what servers
 * before RT-10 sent) reads as a batch of one.
 */
export function parsePresenceEvent(raw: unknown): IncomingEvent | null {
  if (!isRecord(raw)) return null;
  if (raw.type === "presence" && Array.isArray(raw.users)) {
    const users = raw.users.map(parseEntry).filter((u): u is PresenceEntry => u !== null);
    return { type: "presence", users };
  }
  if (raw.type === "presence") {
    const entry = parseEntry(raw);
    return entry ? { type: "presence", users: [entry] } : null;
  }
  if (raw.type === "join" && Array.isArray(raw.users)) {
    const users = raw.users
      .filter((u): u is Record<string, unknown> => isRecord(u) && typeof u.user_id === "string")
      .map((u) => ({ user_id: u.user_id as string, name: typeof u.name === "string" ? u.name : "" }));
    return { type: "join", users };
  }
  if (raw.type === "leave" && typeof raw.user_id === "string") return { type: "leave", user_id: raw.user_id };
  return null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const documentVisibility: VisibilitySource = {
  isVisible: () => typeof document === "undefined" || document.visibilityState !== "hidden",
  onChange(listener) {
    if (typeof document === "undefined") return () => {};
    document.addEventListener("visibilitychange", listener);
    return () => document.removeEventListener("visibilitychange", listener);
  },
};

interface RemoteEntry extends PresencePeer {
  /** When the remote typing flag expires (epoch ms); 0 when not typing. */
  typingUntil: number;
  /** `stateClock` when cursor/typing were last set (from an event or the list); 0: never. */
  stateAt: number;
}

type Timer = ReturnType<typeof setTimeout>;

export class PresenceTracker {
  private readonly engine: PresenceEngine;
  private readonly me: PresencePeer;
  private readonly fetchOnline: () => Promise<PresenceUser[]>;
  private readonly visibility: VisibilitySource;
  private readonly now: () => number;
  private readonly onError: (error: unknown) => void;
  private readonly interval: number;

  private readonly remote = new Map<string, RemoteEntry>();
  private readonly listeners = new Set<() => void>();
  private snapshot: PresenceSnapshot;
  private running = false;
  /** Bumped on start/stop so a fetch from an earlier run cannot land in a later one. */
  private generation = 0;
  /** Users who left while the online list was being fetched (the list may predate the leave). */
  private leftDuringFetch = new Set<string>();
  /** Counts state changes, so a list fetched before a live update cannot overwrite it. */
  private stateClock = 0;
  private unsubscribers: Array<() => void> = [];

  // What we send: always the whole state.
  private mine: { cursor: CursorPoint | null; block_id: string | null; typing: boolean } = {
    cursor: null,
    block_id: null,
    typing: false,
  };
  private lastSendAt = Number.NEGATIVE_INFINITY;
  private lastTypingSentAt = Number.NEGATIVE_INFINITY;
  private sendTimer: Timer | undefined;
  private typingIdleTimer: Timer | undefined;
  private heartbeatTimer: Timer | undefined;
  private sweepTimer: Timer | undefined;

  constructor(options: PresenceTrackerOptions) {
    this.engine = options.engine;
    this.fetchOnline = options.fetchOnline;
    this.visibility = options.visibility ?? documentVisibility;
    this.now = options.now ?? Date.now;
    this.onError = options.onError ?? (() => {});
    this.interval = options.sendIntervalMs ?? PRESENCE_SEND_INTERVAL_MS;
    this.me = {
      user_id: options.me.user_id,
      name: options.me.name,
      color: colorFor(options.me.user_id),
      cursor: null,
      block_id: null,
      typing: false,
      lastSeen: 0,
    };
    this.snapshot = { me: this.me, others: [], typing: [] };
  }

  // --- store (useSyncExternalStore) ---

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): PresenceSnapshot => this.snapshot;

  // --- lifecycle ---

  /** Listens to the engine, loads who is online, and starts the heartbeat. Idempotent. */
  start(): void {
    if (this.running) return;
    this.running = true;
    const generation = ++this.generation;
    this.unsubscribers.push(this.engine.onPresence((event) => this.receive(event)));
    this.unsubscribers.push(
      this.visibility.onChange(() => {
        // Back in view: announce ourselves at once (others may have dropped us while hidden).
        if (this.running && this.visibility.isVisible()) this.queueSend();
      }),
    );
    this.queueSend();
    void this.loadOnline(generation);
  }

  /** Stops every timer and listener; clears our cursor and typing for the others. Idempotent. */
  stop(): void {
    if (!this.running) return;
    if (this.mine.cursor !== null || this.mine.typing) {
      this.mine = { cursor: null, block_id: null, typing: false };
      this.sendNow();
    }
    this.running = false;
    this.generation++;
    for (const unsubscribe of this.unsubscribers.splice(0)) unsubscribe();
    for (const timer of [this.sendTimer, this.typingIdleTimer, this.heartbeatTimer, this.sweepTimer])
      clearTimeout(timer);
    this.sendTimer = this.typingIdleTimer = this.heartbeatTimer = this.sweepTimer = undefined;
    this.remote.clear();
    this.publish();
  }

  /**
   * Reloads the online list: after a reconnect (join/leave may have been missed), and
   * periodically while polling (REST clients receive no presence events).
   */
  refresh(): void {
    if (this.running) void this.loadOnline(this.generation);
  }

  // --- sending ---

  /** Sends our current state now (throttled), e.g. once the engine's transport is connected. */
  announce(): void {
    this.queueSend();
  }

  /** Our pointer is at (x, y) px from the top-left of block `blockId`'s element. Throttled. */
  moveCursor(blockId: string, x: number, y: number): void {
    if (!this.running || !Number.isFinite(x) || !Number.isFinite(y)) return;
    this.mine = { ...this.mine, cursor: { x: Math.round(x), y: Math.round(y) }, block_id: blockId };
    this.queueSend();
  }

  /** A keystroke in block `blockId`. */
  typing(blockId: string): void {
    if (!this.running) return;
    const now = this.now();
    // The cursor is relative to its block: typing elsewhere makes it meaningless.
    const cursor = this.mine.block_id === blockId ? this.mine.cursor : null;
    const repeat = !this.mine.typing || now - this.lastTypingSentAt >= TYPING_REPEAT_MS;
    const changed = this.mine.block_id !== blockId || cursor !== this.mine.cursor;
    this.mine = { cursor, block_id: blockId, typing: true };
    if (repeat || changed) {
      this.lastTypingSentAt = now;
      this.queueSend();
    }
    clearTimeout(this.typingIdleTimer);
    this.typingIdleTimer = setTimeout(() => {
      this.typingIdleTimer = undefined;
      this.mine = { ...this.mine, typing: false };
      this.queueSend();
    }, TYPING_IDLE_MS);
  }

  /** The pointer left the canvas. */
  clear(): void {
    if (!this.running || this.mine.cursor === null) return;
    this.mine = { ...this.mine, cursor: null, block_id: this.mine.typing ? this.mine.block_id : null };
    this.queueSend();
  }

  private queueSend(): void {
    if (!this.running || this.sendTimer !== undefined) return;
    const wait = this.lastSendAt + this.interval - this.now();
    if (wait <= 0) {
      this.sendNow();
      return;
    }
    // Trailing send: whatever `mine` is when the window closes is what goes out.
    this.sendTimer = setTimeout(() => {
      this.sendTimer = undefined;
      this.sendNow();
    }, wait);
  }

  private sendNow(): void {
    this.lastSendAt = this.now();
    try {
      this.engine.sendPresence({ ...this.mine });
    } catch (error) {
      this.onError(error);
    }
    this.scheduleHeartbeat();
  }

  private scheduleHeartbeat(): void {
    clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
    if (!this.running) return;
    this.heartbeatTimer = setTimeout(() => {
      this.heartbeatTimer = undefined;
      // Hidden pages go quiet; the visibility listener announces us when we are back.
      if (this.visibility.isVisible()) this.queueSend();
    }, HEARTBEAT_MS);
  }

  // --- receiving ---

  private async loadOnline(generation: number): Promise<void> {
    this.leftDuringFetch = new Set();
    const fetchedFrom = this.stateClock;
    let users: OnlineUser[];
    try {
      users = await this.fetchOnline();
    } catch (error) {
      this.onError(error);
      return;
    }
    if (generation !== this.generation || !this.running) return;
    const now = this.now();
    let changed = false;
    for (const user of users) {
      if (user.user_id === this.me.user_id || this.leftDuringFetch.has(user.user_id)) continue;
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

  private receive(raw: unknown): void {
    if (!this.running) return;
    const event = parsePresenceEvent(raw);
    if (!event) return;
    const now = this.now();
    if (event.type === "leave") {
      this.leftDuringFetch.add(event.user_id);
      if (this.remote.delete(event.user_id)) this.changed();
      return;
    }
    if (event.type === "join") {
      for (const user of event.users) {
        if (user.user_id === this.me.user_id) continue;
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
      if (user.user_id === this.me.user_id) continue;
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
    if (!this.running) return;
    const now = this.now();
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
    if (changed) this.publish();
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
      this.sweepTimer = setTimeout(this.sweep, Math.max(0, next - this.now()));
  }

  private changed(): void {
    this.publish();
    this.armSweep();
  }

  private publish(): void {
    const others = [...this.remote.values()]
      .map(({ typingUntil: _, stateAt: __, ...peer }) => peer)
      .sort((a, b) => a.name.localeCompare(b.name) || a.user_id.localeCompare(b.user_id));
    this.snapshot = { me: this.me, others, typing: others.filter((peer) => peer.typing) };
    for (const listener of [...this.listeners]) listener();
  }
}
