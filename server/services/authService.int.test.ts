import { randomUUID } from "node:crypto";
import { hash } from "argon2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi } from "../../tests/support/apiHarness";
import { seedUser } from "../../tests/support/fixtures";
import { DomainError } from "../domain/errors";
import { AuthService } from "./authService";

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => api?.stop());

const info = { ip: "203.0.113.7", userAgent: "service-test" };
const PASSWORD = "a long enough password";
const email = () => `svc-${randomUUID()}@example.test`;

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (error) {
    if (error instanceof DomainError) return error.code;
    throw error;
  }
}

describe("AuthService on the real database", () => {
  it("AUTH-3: many concurrent refreshes of one token: exactly one rotation wins, every other is reuse", async () => {
    const auth = api.app.deps.auth;
    const session = await auth.register({ email: email(), password: PASSWORD, name: "Racer" }, info);
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, () => codeOf(auth.refresh(session.refresh_token, info))),
    );
    expect(outcomes.filter((o) => o === "ok")).toHaveLength(1);
    expect(outcomes.filter((o) => o === "invalid_refresh_token")).toHaveLength(7);
    const rows = await api.app.deps.db.query<{ used: number; revoked: number; total: number }>(
      `SELECT count(used_at)::int AS used, count(revoked_at)::int AS revoked, count(*)::int AS total
         FROM refresh_tokens WHERE user_id = $1`,
      [session.user.user_id],
    );
    // One spent original, one token it rotated into; both revoked by the reuse.
    expect(rows[0]).toEqual({ used: 1, revoked: 2, total: 2 });
    const reuse = await api.app.deps.db.query(
      "SELECT 1 FROM system_audit WHERE action = 'auth.refresh_reuse' AND actor_id = $1",
      [session.user.user_id],
    );
    expect(reuse).toHaveLength(7);
  });

  it("AUTH-3: an expired refresh token answers invalid_refresh_token and is audited with the reason", async () => {
    const shortLived = new AuthService({ db: api.app.deps.db, tokens: api.app.deps.tokens, refreshTtlS: -1 });
    const session = await shortLived.register({ email: email(), password: PASSWORD, name: "Expired" }, info);
    expect(await codeOf(shortLived.refresh(session.refresh_token, info))).toBe("invalid_refresh_token");
    const audits = await api.app.deps.db.query<{ status: string; detail: { reason: string }; ip: string }>(
      "SELECT status, detail, ip FROM system_audit WHERE action = 'auth.refresh' AND actor_id = $1",
      [session.user.user_id],
    );
    expect(audits).toEqual([
      { status: "failed", detail: expect.objectContaining({ reason: "expired" }), ip: info.ip },
    ]);
  });

  it("AUTH-1: a hash made with weaker parameters is upgraded to the current argon2id parameters at login", async () => {
    const address = email();
    const weak = await hash(PASSWORD, { type: 2, memoryCost: 4096, timeCost: 1, parallelism: 1 });
    await api.app.deps.db.query("INSERT INTO users (email, name, password_hash) VALUES ($1, 'Old', $2)", [
      address,
      weak,
    ]);
    const session = await api.app.deps.auth.login({ email: address, password: PASSWORD }, info);
    const [row] = await api.app.deps.db.query<{ password_hash: string }>(
      "SELECT password_hash FROM users WHERE user_id = $1",
      [session.user.user_id],
    );
    expect(row!.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,p=1,t=2\$/);
    // And the upgraded hash still verifies.
    await expect(api.app.deps.auth.login({ email: address, password: PASSWORD }, info)).resolves.toBeTruthy();
  });

  it("AUTH-1: an account without a usable hash cannot sign in (401, never a 500)", async () => {
    const userId = await seedUser(api.app.deps.db, "Seeded"); // password_hash 'x'
    const [{ email: address }] = (await api.app.deps.db.query<{ email: string }>(
      "SELECT email FROM users WHERE user_id = $1",
      [userId],
    )) as [{ email: string }];
    expect(await codeOf(api.app.deps.auth.login({ email: address, password: "x" }, info))).toBe(
      "invalid_credentials",
    );
    expect(await codeOf(api.app.deps.auth.login({ email: address, password: PASSWORD }, info))).toBe(
      "invalid_credentials",
    );
  });

  it("AUTH-1: concurrent sign-ups with one email create one account; the others get email_taken", async () => {
    const address = email();
    const outcomes = await Promise.all(
      Array.from({ length: 4 }, () =>
        codeOf(api.app.deps.auth.register({ email: address, password: PASSWORD, name: "Twin" }, info)),
      ),
    );
    expect(outcomes.sort()).toEqual(["email_taken", "email_taken", "email_taken", "ok"]);
  });
});
