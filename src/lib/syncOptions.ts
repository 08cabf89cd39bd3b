// Moved to src/lib/sync/options.ts (also exported by `@/lib/sync`); kept for importers being edited elsewhere.
export type * from "./sync/options";
