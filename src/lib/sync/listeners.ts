import type { BlockJson, Op, OpEvent, SyncEvent } from "./types";
import type { RemoteOpInfo } from "./view";

export type LocalOpListener = (op: Op, before: BlockJson | undefined) => void;
export type RemoteOpListener = (event: OpEvent, info: RemoteOpInfo) => void;
export type PresenceListener = (event: SyncEvent) => void;

/**
 * The engine's listeners beyond the UI store (undo, presence). A listener that throws is
 * reported (onError) and never stops the engine or the other listeners.
 */
export class EngineListeners {
  readonly local = new Set<LocalOpListener>();
  readonly remote = new Set<RemoteOpListener>();
  readonly presence = new Set<PresenceListener>();

  constructor(private readonly onError: (error: unknown) => void) {}

  add<T>(set: Set<T>, listener: T): () => void {
    set.add(listener);
    return () => set.delete(listener);
  }

  emitLocal(op: Op, before: BlockJson | undefined): void {
    for (const l of this.local) this.safely(() => l(op, before));
  }

  emitRemote(event: OpEvent, info: RemoteOpInfo): void {
    for (const l of this.remote) this.safely(() => l(event, info));
  }

  emitPresence(event: SyncEvent): void {
    for (const l of this.presence) this.safely(() => l(event));
  }

  private safely(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.onError(error);
    }
  }
}
