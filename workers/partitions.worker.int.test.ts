import { afterAll, beforeAll, expect, it } from "vitest";
import type { Database } from "../server/db/sql";
import { createTestDatabase, type TestDatabase } from "../tests/support/testDb";
import { createPartitionsWorker } from "./partitions.worker";

let t: TestDatabase;
let db: Database;

beforeAll(async () => {
  t = await createTestDatabase();
  db = t.db;
});
afterAll(async () => t?.drop());

async function partitions(): Promise<string[]> {
  const rows = await db.query<{ name: string }>(
    "SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'system_audit'::regclass ORDER BY 1",
  );
  return rows.map((r) => r.name);
}

it("DB-5: the partitions worker creates missing audit partitions ahead, and stops cleanly", async () => {
  const ahead = new Date();
  ahead.setUTCDate(1);
  ahead.setUTCMonth(ahead.getUTCMonth() + 3);
  const name = `system_audit_y${ahead.getUTCFullYear()}m${String(ahead.getUTCMonth() + 1).padStart(2, "0")}`;
  await db.query(`DROP TABLE ${name}`);
  expect(await partitions()).not.toContain(name);
  const worker = createPartitionsWorker(db, { intervalMs: 60_000 });
  await worker.start();
  expect(await partitions()).toContain(name);
  await worker.stop();
  await worker.stop();
});
