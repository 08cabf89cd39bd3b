import { z } from "zod";
import { parseTrustedProxies } from "./domain/clientAddress";

/** Per-route limit: `points` requests per `duration` seconds (rate-limiter-flexible's terms). */
export const rateRuleSchema = z.object({
  points: z.number().int().positive(),
  duration: z.number().positive(),
});
export type RateRule = z.infer<typeof rateRuleSchema>;

/** The blueprint's limits (SPEC §5); ids are the keys accepted by `RATE_LIMITS`. */
export const DEFAULT_RATE_LIMITS = {
  H1: { points: 10, duration: 1 },
  H2: { points: 10, duration: 1 },
  H3: { points: 5, duration: 1 },
  H4: { points: 1, duration: 1 },
  H5: { points: 1, duration: 30 },
  H6: { points: 1, duration: 1 },
  A1: { points: 5, duration: 1 },
  A2: { points: 10, duration: 1 },
  A3: { points: 20, duration: 1 },
  A4: { points: 2, duration: 1 },
  A5: { points: 1, duration: 10 },
  A6: { points: 1, duration: 1 },
  A7: { points: 1, duration: 86_400 },
  A8: { points: 5, duration: 1 },
  M3: { points: 1, duration: 1 },
  RPC: { points: 100, duration: 60 },
  AUTH: { points: 10, duration: 60 },
  /** UI-10: invitations by email, per inviting user: as AUTH, so email probing stays slow. */
  INVITE: { points: 10, duration: 60 },
  DEFAULT: { points: 10, duration: 1 },
} satisfies Record<string, RateRule>;
export type RateLimitId = keyof typeof DEFAULT_RATE_LIMITS;
export type RateLimits = Record<RateLimitId, RateRule>;

const port = z.coerce.number().int().min(0).max(65_535);
const url = (protocols: string[]) =>
  z.url().refine((u) => protocols.some((p) => u.startsWith(`${p}://`)), {
    message: `must start with ${protocols.map((p) => `${p}://`).join(" or ")}`,
  });

const rateLimitsJson = z
  .string()
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: "custom", message: "is not valid JSON" });
      return z.NEVER;
    }
  })
  .pipe(
    z.partialRecord(
      z.enum(Object.keys(DEFAULT_RATE_LIMITS) as [RateLimitId, ...RateLimitId[]]),
      rateRuleSchema,
    ),
  );

/** SEC-4: addresses/CIDRs (and `loopback`) of proxies whose X-Forwarded-For hops are believed. */
const trustedProxies = z.string().transform((text, ctx) => {
  try {
    return parseTrustedProxies(text);
  } catch (error) {
    ctx.addIssue({ code: "custom", message: (error as Error).message });
    return z.NEVER;
  }
});

const envSchema = z.object({
  NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
  API_PORT: port.default(4000),
  WEB_PORT: port.default(3000),
  HOST: z.string().min(1).default("127.0.0.1"),
  DATA_DIR: z.string().min(1).default(".data"),
  DATABASE_URL: url(["postgres", "postgresql"]).optional(),
  DATABASE_URL_DIRECT: url(["postgres", "postgresql"]).optional(),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  REDIS_URL: url(["redis", "rediss"]).optional(),
  REDIS_PREFIX: z.string().min(1).default("potentia:"),
  INTERNAL_TOKEN: z.string().min(16).optional(),
  JWT_PRIVATE_KEY: z.string().min(1).optional(),
  JWT_PUBLIC_KEYS: z.string().min(1).optional(),
  ALLOWED_ORIGINS: z.string().optional(),
  /** Where browsers open the WebSocket (A1's ws_url), e.g. `wss://rt.example.com`; unset: `ws://HOST:port`. */
  PUBLIC_WS_URL: url(["ws", "wss"]).optional(),
  RATE_LIMITS: rateLimitsJson.optional(),
  /** SEC-4: proxies in front of the API (none by default: X-Forwarded-For is ignored). */
  TRUSTED_PROXIES: trustedProxies.default(() => parseTrustedProxies("")),
  CANARY_PERCENT: z.coerce.number().min(0).max(100).default(100),
  WORKERS: z.enum(["on", "off"]).default("on"),
  /** Single-node only: create the demo account and canvas at start (`npm run dev` / `npm start` set it). */
  DEMO: z.enum(["on", "off"]).default("off"),
  EMBEDDING_URL: url(["http", "https"]).optional(),
  EMBEDDING_MODEL: z.string().min(1).default("text-embedding-3-small"),
  EMBEDDING_API_KEY: z.string().optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: url(["http", "https"]).optional(),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(5_000),
  /** RT-6: WebSocket heartbeat interval; a socket that missed one ping is dropped. */
  WS_HEARTBEAT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  /** RT-6: bytes a socket may have queued before it is closed as a slow consumer. */
  WS_MAX_BUFFERED_BYTES: z.coerce
    .number()
    .int()
    .min(16_384)
    .max(1_073_741_824)
    .default(4 * 1024 * 1024),
  /** SEC-5: `sync.events` subscriptions one socket may hold at once (each multiplies every op). */
  WS_MAX_SUBSCRIPTIONS: z.coerce.number().int().min(1).max(100).default(2),
  /** SEC-5: sockets one user may hold on one canvas, per API process (room for tabs and reconnects). */
  WS_MAX_SOCKETS_PER_USER_CANVAS: z.coerce.number().int().min(1).max(100_000).default(10),
  /** SEC-5: sockets one user may hold over all canvases, per API process. */
  WS_MAX_SOCKETS_PER_USER: z.coerce.number().int().min(1).max(100_000).default(50),
});

export type Env = Omit<z.infer<typeof envSchema>, "RATE_LIMITS" | "ALLOWED_ORIGINS"> & {
  RATE_LIMITS: RateLimits;
  ALLOWED_ORIGINS: string[];
  mode: "single-node" | "production";
};

export class ConfigError extends Error {
  constructor(
    readonly setting: string,
    detail: string,
  ) {
    super(`invalid configuration: ${setting} ${detail}`);
    this.name = "ConfigError";
  }
}

/**
 * Parses the environment once (CMD-1). Throws `ConfigError` naming the first bad setting;
 * `main.ts` prints its message as one line and exits.
 */
export function parseEnv(source: Record<string, string | undefined> = process.env): Env {
  // Empty strings mean "unset", as in most .env tooling.
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const setting = String(issue.path[0] ?? "environment");
    throw new ConfigError(setting, issue.message);
  }
  const env = parsed.data;
  if (env.NODE_ENV === "production") {
    if (!env.JWT_PRIVATE_KEY)
      throw new ConfigError("JWT_PRIVATE_KEY", "is required when NODE_ENV=production");
    if (!env.JWT_PUBLIC_KEYS)
      throw new ConfigError("JWT_PUBLIC_KEYS", "is required when NODE_ENV=production");
  }
  if (env.DATABASE_URL_DIRECT && !env.DATABASE_URL) {
    throw new ConfigError("DATABASE_URL", "is required when DATABASE_URL_DIRECT is set");
  }
  const webOrigin = `http://localhost:${env.WEB_PORT}`;
  return {
    ...env,
    DATABASE_URL_DIRECT: env.DATABASE_URL_DIRECT ?? env.DATABASE_URL,
    RATE_LIMITS: { ...DEFAULT_RATE_LIMITS, ...(env.RATE_LIMITS ?? {}) },
    ALLOWED_ORIGINS: env.ALLOWED_ORIGINS
      ? env.ALLOWED_ORIGINS.split(",")
          .map((o) => o.trim())
          .filter(Boolean)
      : [webOrigin, `http://127.0.0.1:${env.WEB_PORT}`],
    mode: env.DATABASE_URL || env.REDIS_URL ? "production" : "single-node",
  };
}

/** CMD-1 for entry points: the parsed environment, or one line naming the bad setting and exit 78. */
export function parseEnvOrExit(program = "potentia"): Env {
  try {
    return parseEnv();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${program}: ${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
}
