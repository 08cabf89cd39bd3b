/**
 * The typed Prisma client over the same connections as the `Database` port: the pg Pool
 * (@prisma/adapter-pg, unnamed statements, so PgBouncer-safe) or the one PGlite instance
 * (pglite-prisma-adapter; Prisma's transactions go through pglite.transaction and so queue with
 * the port's). The client is generated into generated/prisma by `npm run db:generate`.
 */
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { PrismaClient } from "../../generated/prisma/client";
import type { PgDatabase } from "./pgDatabase";
import type { PgliteDatabase } from "./pgliteDatabase";
import type { Database } from "./sql";

export type { PrismaClient };

/**
 * A PrismaClient sharing `db`'s connections. `$disconnect()` leaves them open: `db.close()`
 * owns them.
 */
export function createPrismaClient(db: Database): PrismaClient {
  if (db.kind === "postgres" && "pool" in db) {
    return new PrismaClient({
      adapter: new PrismaPg((db as PgDatabase).pool, { disposeExternalPool: false }),
    });
  }
  if (db.kind === "pglite" && "pglite" in db) {
    return new PrismaClient({ adapter: new PrismaPGlite((db as PgliteDatabase).pglite) });
  }
  throw new TypeError(`createPrismaClient: no Prisma adapter for this ${db.kind} Database (no pool/pglite)`);
}
