// The wire types moved to src/lib/sync/types.ts (also exported by `@/lib/sync`); kept for importers being edited elsewhere.
export * from "./sync/types";
