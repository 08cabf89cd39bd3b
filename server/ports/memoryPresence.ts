import type { PresenceState } from "../protocol/presence";
import { PRESENCE_TTL_MS, type PresenceRegistry } from "./presence";

/** Single-node presence: one process, so entries live exactly as long as their sockets. */
export class MemoryPresence implements PresenceRegistry {
  readonly kind = "memory";
  private readonly canvases = new Map<string, Map<string, number>>();
  private readonly latest = new Map<string, Map<string, { state: PresenceState; at: number }>>();
  /** Writes since the last sweep of expired states (canvases nobody reads keep none for long). */
  private writes = 0;

  constructor(private readonly now: () => number = Date.now) {}

  async join(canvasId: string, userId: string): Promise<void> {
    let users = this.canvases.get(canvasId);
    if (!users) {
      users = new Map();
      this.canvases.set(canvasId, users);
    }
    users.set(userId, this.now() + PRESENCE_TTL_MS);
  }

  async leave(canvasId: string, userId: string): Promise<void> {
    const users = this.canvases.get(canvasId);
    users?.delete(userId);
    if (users?.size === 0) this.canvases.delete(canvasId);
  }

  async online(canvasId: string): Promise<string[]> {
    const users = this.canvases.get(canvasId);
    if (!users) return [];
    const now = this.now();
    return [...users]
      .filter(([, until]) => until > now)
      .map(([user]) => user)
      .sort();
  }

  setState(canvasId: string, userId: string, state: PresenceState | null): void {
    let users = this.latest.get(canvasId);
    if (state === null) {
      users?.delete(userId);
      if (users?.size === 0) this.latest.delete(canvasId);
      return;
    }
    if (!users) {
      users = new Map();
      this.latest.set(canvasId, users);
    }
    users.set(userId, { state, at: this.now() });
    if (++this.writes >= 10_000) {
      this.writes = 0;
      for (const id of [...this.latest.keys()]) void this.states(id);
    }
  }

  async states(canvasId: string): Promise<Map<string, PresenceState>> {
    const out = new Map<string, PresenceState>();
    const users = this.latest.get(canvasId);
    if (!users) return out;
    const oldest = this.now() - PRESENCE_TTL_MS;
    for (const [user, { state, at }] of users) {
      if (at > oldest) out.set(user, state);
      else users.delete(user);
    }
    if (users.size === 0) this.latest.delete(canvasId);
    return out;
  }

  async close(): Promise<void> {
    this.canvases.clear();
    this.latest.clear();
  }
}
