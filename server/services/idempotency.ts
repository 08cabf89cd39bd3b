import { createHash } from "node:crypto";
import type { SqlClient } from "../db/sql";
import { DomainError } from "../domain/errors";

/** How long a key is remembered (A5). */
export const IDEMPOTENCY_TTL_S = 24 * 60 * 60;

/** Routes that honour `Idempotency-Key`; a key's scope is the route's rate rule id. */
export const IDEMPOTENT_SCOPES: ReadonlySet<string> = new Set(["A5"]);

/** Visible ASCII, 1..255 characters (the IETF draft's key is an opaque string). */
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/** The `Idempotency-Key` header of a request, validated; undefined when absent. */
export function readIdempotencyKey(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || !KEY_PATTERN.test(value)) {
    throw new DomainError("invalid_input", "Idempotency-Key must be 1..255 visible ASCII characters");
  }
  return value;
}

/** JSON with object keys sorted, so that equal bodies hash equally whatever their key order. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

export const requestHash = (body: unknown) => createHash("sha256").update(canonicalJson(body)).digest("hex");

export interface IdempotentAnswer<T> {
  status: number;
  body: T;
  replayed: boolean;
}

/**
 * True when (user, scope, key) holds a finished answer within the TTL: a request with that key
 * will be answered from it (or refused as a mismatch) and runs nothing, so it spends no rate
 * budget (A5: a retry within 10 s must not get 429).
 */
export async function hasStoredAnswer(
  db: SqlClient,
  claim: { userId: string; scope: string; key: string },
): Promise<boolean> {
  const rows = await db.query(
    `SELECT 1 FROM idempotency_keys
      WHERE user_id = $1 AND scope = $2 AND key = $3 AND status_code IS NOT NULL AND expires_at >= now()`,
    [claim.userId, claim.scope, claim.key],
  );
  return rows.length > 0;
}

/**
 * Runs `work` at most once per (user, scope, key) within the TTL, inside `tx` (the caller's
 * transaction, so the claim and the work commit or roll back together). The claim row is
 * inserted first: a concurrent request with the same key blocks on the primary key until the
 * first commits, then reads its answer. Same key, different request → `idempotency_mismatch`.
 */
export async function once<T>(
  tx: SqlClient,
  claim: { userId: string; scope: string; key: string; body: unknown },
  work: () => Promise<{ status: number; body: T }>,
): Promise<IdempotentAnswer<T>> {
  const hash = requestHash(claim.body);
  // Forget this user's expired keys (cheap: their own rows, by primary-key prefix).
  await tx.query("DELETE FROM idempotency_keys WHERE user_id = $1 AND expires_at < now()", [claim.userId]);
  const claimed = await tx.query(
    `INSERT INTO idempotency_keys (user_id, scope, key, request_hash, expires_at)
     VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))
     ON CONFLICT (user_id, scope, key) DO NOTHING
     RETURNING key`,
    [claim.userId, claim.scope, claim.key, hash, IDEMPOTENCY_TTL_S],
  );
  if (claimed.length === 0) {
    const [prior] = await tx.query<{ request_hash: string; status_code: number | null; response: T | null }>(
      `SELECT request_hash, status_code, response FROM idempotency_keys
        WHERE user_id = $1 AND scope = $2 AND key = $3`,
      [claim.userId, claim.scope, claim.key],
    );
    if (prior && prior.request_hash !== hash) throw new DomainError("idempotency_mismatch");
    if (prior?.status_code != null && prior.response !== null) {
      return { status: prior.status_code, body: prior.response, replayed: true };
    }
    // Only reachable if the row vanished or is unfinished in between: let the client retry.
    throw new DomainError("unavailable", "a request with this Idempotency-Key is still in progress");
  }
  const answer = await work();
  await tx.query(
    `UPDATE idempotency_keys SET status_code = $4, response = $5::jsonb
      WHERE user_id = $1 AND scope = $2 AND key = $3`,
    [claim.userId, claim.scope, claim.key, answer.status, JSON.stringify(answer.body)],
  );
  return { ...answer, replayed: false };
}
