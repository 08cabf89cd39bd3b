import { createHash, randomBytes, randomUUID } from "node:crypto";
import type { SqlClient } from "../db/sql";

/** AUTH-3: a refresh token lives 30 days unless rotated, revoked or reused first. */
export const REFRESH_TOKEN_TTL_S = 30 * 24 * 60 * 60;

/** A fresh opaque refresh token: 32 random bytes, base64url (43 characters). */
export function generateRefreshToken(): string {
  return randomBytes(32).toString("base64url");
}

/** What the database stores instead of the token: its SHA-256, hex. */
export function hashRefreshToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

export interface RefreshTokenRow {
  token_id: string;
  user_id: string;
  family_id: string;
  used_at: Date | null;
  revoked_at: Date | null;
  /** expires_at <= now() by the database's clock (one clock for every process). */
  expired: boolean;
}

/**
 * The `refresh_tokens` table. Every function takes the SqlClient to run on, so that the service
 * can put a rotation (lock, check, insert, mark used) and its audit row in one transaction.
 */
export const refreshTokens = {
  /** Stores a new token of `familyId` (a new family when omitted); returns its token and ids. */
  async create(
    sql: SqlClient,
    userId: string,
    opts: { familyId?: string; ttlS?: number } = {},
  ): Promise<{ token: string; tokenId: string; familyId: string }> {
    const token = generateRefreshToken();
    const tokenId = randomUUID();
    const familyId = opts.familyId ?? randomUUID();
    await sql.query(
      `INSERT INTO refresh_tokens (token_id, user_id, family_id, token_hash, expires_at)
       VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))`,
      [tokenId, userId, familyId, hashRefreshToken(token), opts.ttlS ?? REFRESH_TOKEN_TTL_S],
    );
    return { token, tokenId, familyId };
  },

  /**
   * The row of a presented token, locked until the transaction ends: a concurrent rotation of the
   * same token waits here and then sees `used_at` set (READ COMMITTED re-reads the locked row).
   */
  async findForUpdate(sql: SqlClient, token: string): Promise<RefreshTokenRow | undefined> {
    const rows = await sql.query<RefreshTokenRow>(
      `SELECT token_id, user_id, family_id, used_at, revoked_at, expires_at <= now() AS expired
         FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE`,
      [hashRefreshToken(token)],
    );
    return rows[0];
  },

  /** Marks a token spent by its rotation into `replacedBy`. */
  async markUsed(sql: SqlClient, tokenId: string, replacedBy: string): Promise<void> {
    await sql.query("UPDATE refresh_tokens SET used_at = now(), replaced_by = $2 WHERE token_id = $1", [
      tokenId,
      replacedBy,
    ]);
  },

  /** Revokes every not yet revoked token of a family; returns how many it revoked. */
  async revokeFamily(sql: SqlClient, familyId: string): Promise<number> {
    const rows = await sql.query<{ token_id: string }>(
      `UPDATE refresh_tokens SET revoked_at = now()
        WHERE family_id = $1 AND revoked_at IS NULL RETURNING token_id`,
      [familyId],
    );
    return rows.length;
  },
};
