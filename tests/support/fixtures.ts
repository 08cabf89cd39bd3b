import { randomUUID } from "node:crypto";
import type { SqlClient } from "../../server/db/sql";

/** Inserts a user straight into the database (tests only; the API registers through AUTH). */
export async function seedUser(db: SqlClient, name = "Test User"): Promise<string> {
  const id = randomUUID();
  await db.query("INSERT INTO users (user_id, email, name, password_hash) VALUES ($1, $2, $3, 'x')", [
    id,
    `${id}@example.test`,
    name,
  ]);
  return id;
}

/** Inserts a canvas owned by `ownerId`, with the owner as a member. */
export async function seedCanvas(db: SqlClient, ownerId: string, title = "Test canvas"): Promise<string> {
  const id = randomUUID();
  await db.query("INSERT INTO canvas (canvas_id, title, owner_id) VALUES ($1, $2, $3)", [id, title, ownerId]);
  await db.query("INSERT INTO canvas_members (canvas_id, user_id, role) VALUES ($1, $2, 'owner')", [
    id,
    ownerId,
  ]);
  return id;
}

export const newId = () => randomUUID();
