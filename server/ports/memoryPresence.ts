import { PRESENCE_TTL_MS, type PresenceRegistry } from "./presence";

/** Single-node presence: one process, so entries live exactly as long as their sockets. */
export class MemoryPresence implements PresenceRegistry {
  readonly kind = "memory";
  private readonly canvases = new Map<string, Map<string, number>>();

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

  async close(): Promise<void> {
    this.canvases.clear();
  }
}
