import { defineConfig } from "prisma/config";

// Prisma 7 reads the datasource URL from here, not from schema.prisma. Only the Prisma CLI
// uses it (e.g. `prisma migrate status` on a machine that has the schema engine): the app
// connects through driver adapters (server/db/prisma.ts) and migrates with server/db/migrate.ts.
// Migrations go to the direct server, never through PgBouncer.
const url = process.env.DATABASE_URL_DIRECT || process.env.DATABASE_URL;

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  ...(url ? { datasource: { url } } : {}),
});
