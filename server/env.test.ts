import { describe, expect, it } from "vitest";
import { ConfigError, DEFAULT_RATE_LIMITS, parseEnv } from "./env";

describe("parseEnv", () => {
  it("CMD-1: defaults give single-node mode with the blueprint's limits", () => {
    const env = parseEnv({});
    expect(env.mode).toBe("single-node");
    expect(env.API_PORT).toBe(4000);
    expect(env.WEB_PORT).toBe(3000);
    expect(env.DATA_DIR).toBe(".data");
    expect(env.RATE_LIMITS).toEqual(DEFAULT_RATE_LIMITS);
    expect(env.ALLOWED_ORIGINS).toContain("http://localhost:3000");
  });

  it("CMD-1: DATABASE_URL / REDIS_URL switch on production mode; DIRECT defaults to DATABASE_URL", () => {
    const env = parseEnv({ DATABASE_URL: "postgres://u@h:6432/db", REDIS_URL: "redis://h:6379" });
    expect(env.mode).toBe("production");
    expect(env.DATABASE_URL_DIRECT).toBe("postgres://u@h:6432/db");
  });

  it.each([
    ["API_PORT", { API_PORT: "eighty" }],
    ["DATABASE_URL", { DATABASE_URL: "mysql://x" }],
    ["REDIS_URL", { REDIS_URL: "http://x" }],
    ["RATE_LIMITS", { RATE_LIMITS: "{not json" }],
    ["RATE_LIMITS", { RATE_LIMITS: '{"NOPE":{"points":1,"duration":1}}' }],
    ["CANARY_PERCENT", { CANARY_PERCENT: "150" }],
    ["JWT_PRIVATE_KEY", { NODE_ENV: "production" }],
    ["INTERNAL_TOKEN", { INTERNAL_TOKEN: "short" }],
  ])("CMD-1: a bad %s is refused with an error naming it", (setting, source) => {
    let caught: unknown;
    try {
      parseEnv(source);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).setting).toBe(setting);
    expect((caught as ConfigError).message).toContain(setting);
    expect((caught as ConfigError).message).not.toContain("\n");
  });

  it("CMD-1: RATE_LIMITS overrides merge over the defaults", () => {
    const env = parseEnv({ RATE_LIMITS: '{"A5":{"points":100,"duration":1}}' });
    expect(env.RATE_LIMITS.A5).toEqual({ points: 100, duration: 1 });
    expect(env.RATE_LIMITS.H2).toEqual(DEFAULT_RATE_LIMITS.H2);
  });
});
