// Moved to src/lib/sync/pendingStore.ts (also exported by `@/lib/sync`); kept for importers being edited elsewhere.
export * from "./sync/pendingStore";
