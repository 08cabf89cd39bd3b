import { randomUUID } from "node:crypto";
import { createRemoteJWKSet, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi } from "../../tests/support/apiHarness";
import { hashRefreshToken } from "../auth/refreshTokens";
import { TOKEN_AUDIENCE, TOKEN_ISSUER } from "../auth/tokens";
import { appRouter } from "./index";

let api: TestApi;
beforeAll(async () => {
  // These tests sign in far more often than the per-IP AUTH budget allows; API-2 is tested elsewhere.
  const many = { points: 100_000, duration: 1 };
  api = await startTestApi({ RATE_LIMITS: JSON.stringify({ AUTH: many, H5: many, DEFAULT: many }) });
});
afterAll(async () => api?.stop());

const UA = "potentia-auth-test/1.0";

interface Session {
  user: { user_id: string; email: string; name: string };
  access_token: string;
  refresh_token: string;
  token_type: string;
  expires_in: number;
}

function post(path: string, json: unknown, headers: Record<string, string> = {}) {
  return api.anonymous(`/api/v1/auth/${path}`, {
    method: "POST",
    json,
    headers: { "user-agent": UA, ...headers },
  });
}

const freshEmail = () => `user-${randomUUID()}@example.test`;
const PASSWORD = "correct horse battery staple";

async function register(email = freshEmail(), password = PASSWORD, name = "Ada Lovelace"): Promise<Session> {
  const res = await post("register", { email, password, name });
  expect(res.status).toBe(201);
  return (await res.json()) as Session;
}

async function auditRows(action: string, where: { actorId?: string; targetId?: string } = {}) {
  return api.app.deps.db.query<{
    actor_id: string | null;
    target_id: string | null;
    status: string;
    ip: string | null;
    user_agent: string | null;
    latency_ms: number | null;
    affected_rows: number | null;
    detail: Record<string, unknown>;
  }>(
    `SELECT actor_id, target_id, status, ip, user_agent, latency_ms, affected_rows, detail FROM system_audit
      WHERE action = $1 AND ($2::uuid IS NULL OR actor_id = $2) AND ($3::text IS NULL OR target_id = $3)
      ORDER BY audit_id`,
    [action, where.actorId ?? null, where.targetId ?? null],
  );
}

function expectSession(body: Session, email: string, name: string) {
  expect(body).toEqual({
    user: { user_id: expect.stringMatching(/^[0-9a-f-]{36}$/), email, name },
    access_token: expect.any(String),
    refresh_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    token_type: "Bearer",
    expires_in: 900,
  });
}

describe("register", () => {
  it("AUTH-1: register answers 201 with the session; the password is stored only as an argon2id hash; audited", async () => {
    const email = freshEmail();
    const res = await post("register", { email, password: PASSWORD, name: "Ada Lovelace" });
    expect(res.status).toBe(201);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = (await res.json()) as Session;
    expectSession(body, email, "Ada Lovelace");

    const [row] = await api.app.deps.db.query<{ password_hash: string }>(
      "SELECT password_hash FROM users WHERE user_id = $1",
      [body.user.user_id],
    );
    expect(row!.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,p=1,t=2\$/);
    expect(row!.password_hash).not.toContain(PASSWORD);

    const audits = await auditRows("auth.register", { actorId: body.user.user_id });
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({ status: "success", ip: "127.0.0.1", user_agent: UA });
    expect(audits[0]!.latency_ms).toBeGreaterThan(0);
  });

  it("AUTH-1: emails are trimmed and lower-cased; a duplicate in any case answers 409 email_taken, audited", async () => {
    const local = `Mixed.${randomUUID()}`;
    const first = await register(`  ${local}@Example.TEST `);
    expect(first.user.email).toBe(`${local.toLowerCase()}@example.test`);

    const res = await post("register", {
      email: `${local.toUpperCase()}@EXAMPLE.test`,
      password: PASSWORD,
      name: "X",
    });
    expect(res.status).toBe(409);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
    expect(await res.json()).toMatchObject({ status: 409, code: "email_taken" });
    const [{ n }] = (await api.app.deps.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM users WHERE email = $1",
      [first.user.email],
    )) as [{ n: number }];
    expect(n).toBe(1);
    const failed = (await auditRows("auth.register")).filter(
      (r) => r.status === "failed" && r.detail.email === first.user.email,
    );
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ actor_id: null, ip: "127.0.0.1", user_agent: UA });
  });

  it("API-3: bad register input answers 400 problem+json naming the field, and stores nothing", async () => {
    const count = async () =>
      (
        (await api.app.deps.db.query<{ n: number }>("SELECT count(*)::int AS n FROM users")) as [
          { n: number },
        ]
      )[0].n;
    const before = await count();
    const good = { email: freshEmail(), password: PASSWORD, name: "Ok" };
    const cases: [Record<string, unknown>, string][] = [
      [{ ...good, password: "short12" }, "password"],
      [{ ...good, password: "x".repeat(201) }, "password"],
      [{ ...good, email: "not-an-email" }, "email"],
      [{ ...good, email: `${"a".repeat(320)}@example.test` }, "email"],
      [{ ...good, name: "" }, "name"],
      [{ ...good, name: "   " }, "name"],
      [{ ...good, name: "n".repeat(101) }, "name"],
      [{ ...good, email: 42 }, "email"],
      [{ password: PASSWORD, name: "Ok" }, "email"],
      [{ email: freshEmail(), name: "Ok" }, "password"],
    ];
    for (const [json, field] of cases) {
      const res = await post("register", json);
      expect(res.status, JSON.stringify(json).slice(0, 80)).toBe(400);
      expect(res.headers.get("content-type")).toContain("application/problem+json");
      const problem = (await res.json()) as { code: string; errors: { path: string }[] };
      expect(problem.code).toBe("invalid_input");
      expect(problem.errors.map((e) => e.path)).toContain(field);
    }
    // Exactly 200 characters is still accepted.
    expect((await post("register", { ...good, password: "p".repeat(200) })).status).toBe(201);
    expect(await count()).toBe(before + 1);
  });
});

describe("login", () => {
  it("AUTH-1: the right password signs in (200, audited auth.login); a wrong one answers 401 invalid_credentials, audited auth.login_failed", async () => {
    const email = freshEmail();
    const registered = await register(email, PASSWORD, "Grace");
    const ok = await post("login", { email: email.toUpperCase(), password: PASSWORD });
    expect(ok.status).toBe(200);
    const body = (await ok.json()) as Session;
    expectSession(body, email, "Grace");
    expect(body.user.user_id).toBe(registered.user.user_id);
    expect(body.refresh_token).not.toBe(registered.refresh_token);
    expect(await auditRows("auth.login", { actorId: body.user.user_id })).toEqual([
      expect.objectContaining({ status: "success", ip: "127.0.0.1", user_agent: UA }),
    ]);

    const wrong = await post("login", { email, password: `${PASSWORD}!` });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("content-type")).toContain("application/problem+json");
    expect(await wrong.json()).toMatchObject({ status: 401, code: "invalid_credentials" });
    const failed = await auditRows("auth.login_failed", { targetId: body.user.user_id });
    expect(failed).toEqual([
      expect.objectContaining({ status: "failed", actor_id: null, ip: "127.0.0.1", user_agent: UA }),
    ]);
    expect(failed[0]!.latency_ms).toBeGreaterThan(0);
  });

  it("AUTH-1: an unknown email gets the same answer as a wrong password, after similar work", async () => {
    const email = freshEmail();
    await register(email);
    const unknown = freshEmail();
    const answers: unknown[] = [];
    const time = async (json: unknown) => {
      const t0 = performance.now();
      const res = await post("login", json);
      const ms = performance.now() - t0;
      expect(res.status).toBe(401);
      const { detail, code, status, title } = (await res.json()) as Record<string, unknown>;
      answers.push({ detail, code, status, title });
      return ms;
    };
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const wrongMs: number[] = [];
    const unknownMs: number[] = [];
    for (let i = 0; i < 7; i++) {
      wrongMs.push(await time({ email, password: "wrong password" }));
      unknownMs.push(await time({ email: unknown, password: "wrong password" }));
    }
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    // Without the dummy verify an unknown email answers in ~1-2 ms against ~25+ ms for a hash.
    const ratio = median(unknownMs) / median(wrongMs);
    expect(ratio, `unknown ${median(unknownMs)} ms vs wrong ${median(wrongMs)} ms`).toBeGreaterThan(0.4);
    expect(ratio).toBeLessThan(2.5);
    expect(
      (await auditRows("auth.login_failed")).filter(
        (r) => r.detail.email === unknown && r.target_id === null,
      ),
    ).toHaveLength(7);
  });

  it("API-3: bad login input answers 400 naming the field", async () => {
    for (const [json, field] of [
      [{ password: PASSWORD }, "email"],
      [{ email: "nope", password: PASSWORD }, "email"],
      [{ email: freshEmail() }, "password"],
      [{ email: freshEmail(), password: "x".repeat(201) }, "password"],
    ] as const) {
      const res = await post("login", json);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { errors: { path: string }[] }).errors.map((e) => e.path)).toContain(
        field,
      );
    }
  });
});

describe("access tokens and JWKS", () => {
  it("AUTH-2: a token from login works on /api/v1/whoami and verifies against /.well-known/jwks.json", async () => {
    const email = freshEmail();
    const { user } = await register(email);
    const res = await post("login", { email, password: PASSWORD });
    const session = (await res.json()) as Session;

    const who = await api.anonymous("/api/v1/whoami", {
      headers: { authorization: `${session.token_type} ${session.access_token}` },
    });
    expect(await who.json()).toEqual({ user_id: user.user_id, scopes: ["canvas:*:read", "canvas:*:write"] });

    const jwksRes = await api.anonymous("/.well-known/jwks.json");
    expect(jwksRes.status).toBe(200);
    expect(jwksRes.headers.get("content-type")).toContain("application/json");
    expect(jwksRes.headers.get("cache-control")).toMatch(/max-age=\d+/);
    const jwks = (await jwksRes.json()) as { keys: Record<string, unknown>[] };
    expect(jwks.keys.length).toBeGreaterThan(0);
    for (const key of jwks.keys) {
      expect(key).not.toHaveProperty("d");
      expect(key).toMatchObject({ kid: expect.any(String), alg: "ES256", use: "sig" });
    }

    const remote = createRemoteJWKSet(new URL(`${api.url}/.well-known/jwks.json`));
    const { payload, protectedHeader } = await jwtVerify(session.access_token, remote, {
      issuer: TOKEN_ISSUER,
      audience: TOKEN_AUDIENCE,
      algorithms: ["ES256"],
    });
    expect(protectedHeader.kid).toBe(api.app.deps.keys.kid);
    expect(payload.sub).toBe(user.user_id);
    expect(payload.scope).toBe("canvas:*:read canvas:*:write");
    expect(payload.exp! - payload.iat!).toBe(900);
  });
});

describe("refresh (H5)", () => {
  it("AUTH-3: refresh rotates the token: a new pair, the old one spent and replaced in the same family; only hashes stored", async () => {
    const first = await register();
    const res = await post("refresh", { refresh_token: first.refresh_token });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const second = (await res.json()) as Session;
    expectSession(second, first.user.email, first.user.name);
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(second.access_token).not.toBe(first.access_token);

    const rows = await api.app.deps.db.query<{
      token_id: string;
      family_id: string;
      token_hash: string;
      used_at: Date | null;
      revoked_at: Date | null;
      replaced_by: string | null;
      days: number;
    }>(
      `SELECT token_id, family_id, token_hash, used_at, revoked_at, replaced_by,
              extract(epoch FROM expires_at - created_at) / 86400 AS days
         FROM refresh_tokens WHERE user_id = $1 ORDER BY created_at, used_at NULLS LAST`,
      [first.user.user_id],
    );
    expect(rows).toHaveLength(2);
    const [old, current] = rows as [(typeof rows)[0], (typeof rows)[0]];
    expect(old.token_hash).toBe(hashRefreshToken(first.refresh_token));
    expect(current.token_hash).toBe(hashRefreshToken(second.refresh_token));
    expect(old.used_at).not.toBeNull();
    expect(old.replaced_by).toBe(current.token_id);
    expect(current.family_id).toBe(old.family_id);
    expect(current.used_at).toBeNull();
    expect(Number(current.days)).toBeCloseTo(30, 3);
    for (const row of rows) {
      expect(row.token_hash).not.toContain(first.refresh_token);
      expect(row.token_hash).not.toContain(second.refresh_token);
    }
    expect(await auditRows("auth.refresh", { actorId: first.user.user_id })).toEqual([
      expect.objectContaining({
        status: "success",
        ip: "127.0.0.1",
        user_agent: UA,
        target_id: old.family_id,
      }),
    ]);

    // The new one rotates again.
    expect((await post("refresh", { refresh_token: second.refresh_token })).status).toBe(200);
  });

  it("AUTH-3: reusing a spent refresh token revokes its whole family, the newest token included; audited auth.refresh_reuse", async () => {
    const first = await register();
    const other = await post("login", { email: first.user.email, password: PASSWORD }); // another family
    const otherSession = (await other.json()) as Session;
    const second = (await (await post("refresh", { refresh_token: first.refresh_token })).json()) as Session;
    const third = (await (await post("refresh", { refresh_token: second.refresh_token })).json()) as Session;

    const reuse = await post("refresh", { refresh_token: first.refresh_token });
    expect(reuse.status).toBe(401);
    expect(await reuse.json()).toMatchObject({ status: 401, code: "invalid_refresh_token" });
    // The legitimate holder's newest token is dead too.
    const newest = await post("refresh", { refresh_token: third.refresh_token });
    expect(newest.status).toBe(401);
    expect(await newest.json()).toMatchObject({ code: "invalid_refresh_token" });

    const audits = await auditRows("auth.refresh_reuse", { actorId: first.user.user_id });
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({ status: "failed", ip: "127.0.0.1", user_agent: UA, affected_rows: 3 });
    // Another sign-in of the same user (another family) is untouched.
    expect((await post("refresh", { refresh_token: otherSession.refresh_token })).status).toBe(200);
  });

  it("AUTH-3: two concurrent refreshes of one token: exactly one succeeds, the other counts as reuse", async () => {
    const first = await register();
    const answers = await Promise.all(
      Array.from({ length: 4 }, () => post("refresh", { refresh_token: first.refresh_token })),
    );
    const statuses = answers.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 401, 401, 401]);
    const winner = (await answers.find((r) => r.status === 200)!.json()) as Session;
    for (const r of answers.filter((a) => a.status === 401)) {
      expect(await r.json()).toMatchObject({ code: "invalid_refresh_token" });
    }
    expect((await auditRows("auth.refresh_reuse", { actorId: first.user.user_id })).length).toBe(3);
    // Reuse revoked the family: the winner's token no longer works either.
    expect((await post("refresh", { refresh_token: winner.refresh_token })).status).toBe(401);
  });

  it("AUTH-3: an unknown or malformed refresh token answers 401 invalid_refresh_token; a missing one 400", async () => {
    for (const token of ["A".repeat(43), "not a token", "x"]) {
      const res = await post("refresh", { refresh_token: token });
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ code: "invalid_refresh_token" });
    }
    const missing = await post("refresh", {});
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { errors: { path: string }[] }).errors[0]!.path).toBe("refresh_token");
  });
});

describe("logout", () => {
  it("AUTH-3: logout answers 204 and revokes the family: its tokens no longer refresh; idempotent; audited", async () => {
    const first = await register();
    const second = (await (await post("refresh", { refresh_token: first.refresh_token })).json()) as Session;
    const res = await post("logout", { refresh_token: second.refresh_token });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe("");

    const after = await post("refresh", { refresh_token: second.refresh_token });
    expect(after.status).toBe(401);
    expect(await after.json()).toMatchObject({ code: "invalid_refresh_token" });

    const again = await post("logout", { refresh_token: second.refresh_token });
    expect(again.status).toBe(204);
    const audits = await auditRows("auth.logout", { actorId: first.user.user_id });
    expect(audits.map((a) => [a.status, a.affected_rows])).toEqual([
      ["success", 2],
      ["success", 0],
    ]);
    expect(audits[0]).toMatchObject({ ip: "127.0.0.1", user_agent: UA });
  });

  it("AUTH-3: logout of an unknown token answers 204 as well (no token oracle); a missing token 400", async () => {
    expect((await post("logout", { refresh_token: "B".repeat(43) })).status).toBe(204);
    const missing = await post("logout", {});
    expect(missing.status).toBe(400);
    expect(missing.headers.get("content-type")).toContain("application/problem+json");
  });
});

describe("routing metadata", () => {
  it("API-2: register/login spend the AUTH budget, refresh H5, logout DEFAULT", () => {
    const procs = appRouter._def.procedures as unknown as Record<
      string,
      { _def: { meta?: { rateLimit?: string; successStatus?: number } } }
    >;
    expect(procs["auth.register"]!._def.meta).toMatchObject({ rateLimit: "AUTH", successStatus: 201 });
    expect(procs["auth.login"]!._def.meta).toMatchObject({ rateLimit: "AUTH" });
    expect(procs["auth.refresh"]!._def.meta).toMatchObject({ rateLimit: "H5" });
    expect(procs["auth.logout"]!._def.meta).toMatchObject({ rateLimit: "DEFAULT", successStatus: 204 });
  });

  it("API-3: the auth routes are in the OpenAPI document", async () => {
    const doc = (await (await api.anonymous("/api/v1/openapi.json")).json()) as {
      paths: Record<string, unknown>;
    };
    for (const p of ["register", "login", "refresh", "logout"]) {
      expect(doc.paths).toHaveProperty(`/api/v1/auth/${p}`);
    }
  });
});
