import type { OnlineUser, PresenceEntry, PresenceState, PresenceUser } from "./types";

/** RT-3 presence events, as the tracker acts on them. */
export type PresenceEvent =
  | { type: "presence"; users: PresenceEntry[] }
  | { type: "join"; users: PresenceUser[] }
  | { type: "leave"; user_id: string };

/**
 * `GET …/presence` (RT-10) → everyone online now, each with their latest cursor and typing
 * state; anything malformed is skipped, never thrown.
 */
export function parsePresenceList(body: unknown): OnlineUser[] {
  if (!isRecord(body) || !Array.isArray(body.users)) return [];
  const out: OnlineUser[] = [];
  for (const raw of body.users) {
    const entry = parseEntry(raw);
    if (entry) {
      const { user_id, name, ...state } = entry;
      out.push({ user_id, name, state });
    }
  }
  return out;
}

/**
 * RT-3 presence/join/leave, validated at the edge; null for anything else. A `presence` event is
 * RT-10's batch `{ type, users: [...] }`; a one-user event (`{ type, user_id, … }`, what servers
 * before RT-10 sent) reads as a batch of one.
 */
export function parsePresenceEvent(raw: unknown): PresenceEvent | null {
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

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
