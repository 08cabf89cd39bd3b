// UI-3: the client sync engine's public entry (`@/lib/sync`). Its parts live beside this file.
export type { ConnectionState, LinkState } from "./connectionState";
export { type LocalOpListener, type RemoteOpListener, SyncEngine } from "./engine";
export { ALWAYS_ONLINE, browserNetworkStatus, type NetworkStatus } from "./network";
export type { CreateInput, SyncEngineOptions, SyncState, UpdateFields } from "./options";
export { type BudgetId, DEFAULT_LIMITS, Pacer, type PacingLimits } from "./pacer";
export {
  createLocalStoragePendingStore,
  createMemoryPendingStore,
  type PendingOp,
  type PendingStore,
} from "./pendingStore";
export { createRestTransport, type RestTransportOptions } from "./transports/rest";
export {
  createWsTransport,
  type SocketCtor,
  type SocketLike,
  type WsTransportOptions,
} from "./transports/socket";
export {
  type BlockJson,
  ClosedError,
  type ClosedReason,
  type ConflictField,
  type ConflictItem,
  type Op,
  type OpEvent,
  type OpResult,
  type PresenceInput,
  type SnapshotResult,
  type SyncEvent,
  type SyncTransport,
  type TextOp,
  TransientError,
  WriteRevokedError,
} from "./types";
export type { RemoteOpInfo } from "./view";
