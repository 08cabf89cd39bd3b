import { performance } from "node:perf_hooks";
import {
  createDummyHash,
  hashPassword,
  needsRehash,
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
  verifyPassword,
} from "../auth/passwords";
import { REFRESH_TOKEN_TTL_S, refreshTokens } from "../auth/refreshTokens";
import { ACCESS_TOKEN_TTL_S, type AccessTokens } from "../auth/tokens";
import { acceptInvitations } from "../db/invitations";
import type { Database, SqlClient } from "../db/sql";
import { cleanDisplayName } from "../domain/displayName";
import { DomainError } from "../domain/errors";

/** Where a request came from, for the audit row. */
export interface RequestInfo {
  ip: string;
  userAgent: string | null;
}

export interface AuthUser {
  user_id: string;
  email: string;
  name: string;
}

/** The answer of register, login and refresh (SPEC §5). */
export interface AuthSession {
  user: AuthUser;
  access_token: string;
  refresh_token: string;
  token_type: "Bearer";
  /** Seconds until the access token expires. */
  expires_in: number;
}

export type AuthAuditAction =
  | "auth.register"
  | "auth.login"
  | "auth.login_failed"
  | "auth.refresh"
  | "auth.refresh_reuse"
  | "auth.logout";

interface AuditEntry {
  action: AuthAuditAction;
  status: "success" | "failed";
  actorId: string | null;
  targetId?: string | null;
  affectedRows?: number;
  detail?: Record<string, unknown>;
}

type RefreshOutcome =
  | { kind: "ok"; user: AuthUser; refreshToken: string }
  | { kind: "reuse" }
  | { kind: "invalid"; reason: "unknown" | "revoked" | "expired" | "user_gone"; userId?: string };

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

/**
 * Identity (AUTH-1..3): register, login, refresh-token rotation with reuse detection, logout.
 * Every event writes a `system_audit` row; a state change and its audit row commit together.
 */
export class AuthService {
  private readonly dummyHash: Promise<string>;
  private readonly refreshTtlS: number;

  constructor(
    private readonly deps: {
      db: Database;
      tokens: AccessTokens;
      /** Refresh-token lifetime (tests shorten it). */
      refreshTtlS?: number;
    },
  ) {
    this.refreshTtlS = deps.refreshTtlS ?? REFRESH_TOKEN_TTL_S;
    this.dummyHash = createDummyHash();
    this.dummyHash.catch(() => {});
  }

  /** AUTH-1: a new account and its first session; `email_taken` when the email exists. */
  async register(
    input: { email: string; password: string; name: string },
    info: RequestInfo,
  ): Promise<AuthSession> {
    const started = performance.now();
    const email = normaliseEmail(input.email);
    // Issue 9: a name others see carries no bidi controls or invisible characters.
    const name = cleanDisplayName(input.name);
    if (name === "") throw new DomainError("invalid_input", "name must contain visible characters");
    const passwordHash = await hashPassword(input.password);
    const created = await this.deps.db.transaction(async (tx) => {
      // ON CONFLICT: two concurrent sign-ups with one email give one account and one 409.
      const rows = await tx.query<AuthUser>(
        `INSERT INTO users (email, name, password_hash) VALUES ($1, $2, $3)
         ON CONFLICT (email) DO NOTHING RETURNING user_id, email, name`,
        [email, name, passwordHash],
      );
      const user = rows[0];
      if (!user) return undefined;
      // UI-10: invitations sent to this email before it had an account become memberships.
      await acceptInvitations(tx, { userId: user.user_id, email: user.email }, info);
      const refresh = await refreshTokens.create(tx, user.user_id, { ttlS: this.refreshTtlS });
      await this.audit(tx, started, info, {
        action: "auth.register",
        status: "success",
        actorId: user.user_id,
        targetId: user.user_id,
        affectedRows: 1,
        detail: { family_id: refresh.familyId },
      });
      return { user, refreshToken: refresh.token };
    });
    if (!created) {
      await this.audit(this.deps.db, started, info, {
        action: "auth.register",
        status: "failed",
        actorId: null,
        detail: { error: "email_taken", email },
      });
      throw new DomainError("email_taken");
    }
    return this.session(created.user, created.refreshToken);
  }

  /**
   * AUTH-1: a new session for the right email and password. An unknown email and a wrong password
   * get the same error after the same work (a verify against a dummy hash).
   */
  async login(input: { email: string; password: string }, info: RequestInfo): Promise<AuthSession> {
    const started = performance.now();
    const email = normaliseEmail(input.email);
    const rows = await this.deps.db.query<AuthUser & { password_hash: string }>(
      "SELECT user_id, email, name, password_hash FROM users WHERE email = $1",
      [email],
    );
    const row = rows[0];
    const ok = row
      ? await verifyPassword(row.password_hash, input.password)
      : await verifyPassword(await this.dummyHash, input.password).then(() => false);
    if (!row || !ok) {
      await this.audit(this.deps.db, started, info, {
        action: "auth.login_failed",
        status: "failed",
        actorId: null,
        targetId: row?.user_id ?? null,
        detail: { error: "invalid_credentials", reason: row ? "wrong_password" : "unknown_email", email },
      });
      throw new DomainError("invalid_credentials");
    }
    const user: AuthUser = { user_id: row.user_id, email: row.email, name: row.name };
    const rehash =
      needsRehash(row.password_hash) &&
      input.password.length >= PASSWORD_MIN_LENGTH &&
      input.password.length <= PASSWORD_MAX_LENGTH
        ? await hashPassword(input.password)
        : undefined;
    const refreshToken = await this.deps.db.transaction(async (tx) => {
      if (rehash) {
        // Parameters were raised since this hash was made: upgrade it while we know the password.
        await tx.query("UPDATE users SET password_hash = $2, updated_at = now() WHERE user_id = $1", [
          user.user_id,
          rehash,
        ]);
      }
      // UI-10: signing in accepts the invitations pending for this email.
      await acceptInvitations(tx, { userId: user.user_id, email: user.email }, info);
      const refresh = await refreshTokens.create(tx, user.user_id, { ttlS: this.refreshTtlS });
      await this.audit(tx, started, info, {
        action: "auth.login",
        status: "success",
        actorId: user.user_id,
        targetId: user.user_id,
        detail: { family_id: refresh.familyId, ...(rehash ? { rehashed: true } : {}) },
      });
      return refresh.token;
    });
    return this.session(user, refreshToken);
  }

  /**
   * AUTH-3 (H5): rotates a refresh token. The presented token's row is locked, so of two
   * concurrent refreshes of one token exactly one rotates it; the other then finds it spent, which
   * is reuse: the whole family is revoked (the winner's new token too) and audited.
   */
  async refresh(token: string, info: RequestInfo): Promise<AuthSession> {
    const started = performance.now();
    const outcome = await this.deps.db.transaction(async (tx): Promise<RefreshOutcome> => {
      const row = await refreshTokens.findForUpdate(tx, token);
      if (!row) return { kind: "invalid", reason: "unknown" };
      if (row.used_at) {
        const revoked = await refreshTokens.revokeFamily(tx, row.family_id);
        await this.audit(tx, started, info, {
          action: "auth.refresh_reuse",
          status: "failed",
          actorId: row.user_id,
          targetId: row.family_id,
          affectedRows: revoked,
          detail: { error: "invalid_refresh_token", token_id: row.token_id, family_id: row.family_id },
        });
        return { kind: "reuse" };
      }
      if (row.revoked_at) return { kind: "invalid", reason: "revoked", userId: row.user_id };
      if (row.expired) return { kind: "invalid", reason: "expired", userId: row.user_id };
      const users = await tx.query<AuthUser>("SELECT user_id, email, name FROM users WHERE user_id = $1", [
        row.user_id,
      ]);
      const user = users[0];
      if (!user) return { kind: "invalid", reason: "user_gone" };
      // UI-10: a session that stays signed in accepts new invitations at its next refresh.
      await acceptInvitations(tx, { userId: user.user_id, email: user.email }, info);
      const next = await refreshTokens.create(tx, row.user_id, {
        familyId: row.family_id,
        ttlS: this.refreshTtlS,
      });
      await refreshTokens.markUsed(tx, row.token_id, next.tokenId);
      await this.audit(tx, started, info, {
        action: "auth.refresh",
        status: "success",
        actorId: row.user_id,
        targetId: row.family_id,
        affectedRows: 1,
        detail: { token_id: row.token_id, replaced_by: next.tokenId },
      });
      return { kind: "ok", user, refreshToken: next.token };
    });
    if (outcome.kind === "ok") return this.session(outcome.user, outcome.refreshToken);
    if (outcome.kind === "invalid") {
      await this.audit(this.deps.db, started, info, {
        action: "auth.refresh",
        status: "failed",
        actorId: outcome.userId ?? null,
        detail: { error: "invalid_refresh_token", reason: outcome.reason },
      });
    }
    throw new DomainError("invalid_refresh_token");
  }

  /**
   * Revokes the presented token's whole family (every device session it rotated into). Idempotent,
   * and silent about unknown tokens: logout never tells a caller whether a token existed.
   */
  async logout(token: string, info: RequestInfo): Promise<void> {
    const started = performance.now();
    await this.deps.db.transaction(async (tx) => {
      const row = await refreshTokens.findForUpdate(tx, token);
      if (!row) {
        await this.audit(tx, started, info, {
          action: "auth.logout",
          status: "failed",
          actorId: null,
          affectedRows: 0,
          detail: { error: "invalid_refresh_token", reason: "unknown" },
        });
        return;
      }
      const revoked = await refreshTokens.revokeFamily(tx, row.family_id);
      await this.audit(tx, started, info, {
        action: "auth.logout",
        status: "success",
        actorId: row.user_id,
        targetId: row.family_id,
        affectedRows: revoked,
        detail: { family_id: row.family_id },
      });
    });
  }

  private async session(user: AuthUser, refreshToken: string): Promise<AuthSession> {
    return {
      // Names stored before they were cleaned at registration are cleaned on the way out.
      user: { ...user, name: cleanDisplayName(user.name) },
      access_token: await this.deps.tokens.issue(user.user_id),
      refresh_token: refreshToken,
      token_type: "Bearer",
      expires_in: ACCESS_TOKEN_TTL_S,
    };
  }

  private async audit(sql: SqlClient, started: number, info: RequestInfo, entry: AuditEntry): Promise<void> {
    // One append-only row per auth event (DB-5); latency up to the moment it is written.
    await sql.query(
      `INSERT INTO system_audit (actor_id, action, target_id, status, ip, user_agent, latency_ms, affected_rows, detail)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb)`,
      [
        entry.actorId,
        entry.action,
        entry.targetId ?? null,
        entry.status,
        info.ip,
        info.userAgent,
        performance.now() - started,
        entry.affectedRows ?? 0,
        JSON.stringify(entry.detail ?? {}),
      ],
    );
  }
}
