import type { ConflictItem, Op, TextOp } from "./types";

/** One local op not yet seen in the server's event stream (UI-3). Plain JSON: it is persisted. */
export interface PendingOp {
  /** The op as the user made it; `text_op` is kept rebased over what the client has seen since. */
  op: Op;
  /** The payload once sent: frozen so a resend with the same client_op_id is identical (MUT-3). */
  wire?: Op;
  /** server_seq from a `success` result, waiting for its event. */
  ackSeq?: number;
  /** Local y_order for a create/move until the server's block arrives. */
  yOrder?: string;
  /** A foreign op replaced the content under this text op: send it stale so the server conflicts. */
  stale?: boolean;
  /** A create the server refused for its place: how often it was re-placed, and the ids to avoid. */
  salvaged?: number;
  avoid?: string[];
  /** When the last keystroke was composed in (batching window). */
  touchedAt?: number;
  /** When the first keystroke of the batch was typed (a batch goes out after maxBatchMs). */
  startedAt?: number;
}

export type { TextOp };

/**
 * Where pending ops — and conflicts still waiting for the user's decision (UI-4: an edit the
 * server refused is kept until the user chooses) — survive a reload.
 */
export interface PendingStore {
  load(): Promise<PendingOp[]>;
  save(ops: readonly PendingOp[]): Promise<void>;
  loadConflicts?(): Promise<ConflictItem[]>;
  saveConflicts?(items: readonly ConflictItem[]): Promise<void>;
}

/** In-memory store (tests, SSR): survives a new engine on the same instance. */
export function createMemoryPendingStore(
  initial: PendingOp[] = [],
): PendingStore & { ops: PendingOp[]; conflicts: ConflictItem[] } {
  const store = {
    ops: structuredClone(initial),
    conflicts: [] as ConflictItem[],
    async load() {
      return structuredClone(store.ops);
    },
    async save(ops: readonly PendingOp[]) {
      store.ops = structuredClone([...ops]);
    },
    async loadConflicts() {
      return structuredClone(store.conflicts);
    },
    async saveConflicts(items: readonly ConflictItem[]) {
      store.conflicts = structuredClone([...items]);
    },
  };
  return store;
}

interface KeyValue {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/**
 * localStorage-backed store, one key per user and canvas: ops wait for the person who made them
 * (another account signing in on this browser never sends them as its own). A corrupt value
 * loads as empty.
 */
export function createLocalStoragePendingStore(
  canvasId: string,
  userId: string,
  storage: KeyValue = globalThis.localStorage,
): PendingStore {
  const key = `potentia.pending.${userId}.${canvasId}`;
  const conflictsKey = `potentia.conflicts.${userId}.${canvasId}`;
  const read = <T>(k: string): T[] => {
    const raw = storage.getItem(k);
    if (!raw) return [];
    try {
      const parsed: unknown = JSON.parse(raw);
      return Array.isArray(parsed) ? (parsed as T[]) : [];
    } catch {
      return [];
    }
  };
  return {
    async load() {
      return read<PendingOp>(key);
    },
    async save(ops) {
      storage.setItem(key, JSON.stringify(ops));
    },
    async loadConflicts() {
      return read<ConflictItem>(conflictsKey);
    },
    async saveConflicts(items) {
      storage.setItem(conflictsKey, JSON.stringify(items));
    },
  };
}
