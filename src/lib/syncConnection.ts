// Moved to src/lib/sync/ (the connection state machine); kept while sync.ts still imports it here.
export { SyncConnection, type SyncConnectionDeps } from "./sync/connection";
export { ALWAYS_ONLINE, browserNetworkStatus, type NetworkStatus } from "./sync/network";
