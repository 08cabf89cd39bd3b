import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { createPartitionsWorker } from "../workers/partitions.worker";
import { loadSigningKeys } from "./auth/keys";
import { AccessTokens } from "./auth/tokens";
import { migrate } from "./db/migrate";
import { createPgDatabase } from "./db/pgDatabase";
import { createPgliteDatabase } from "./db/pgliteDatabase";
import type { Database } from "./db/sql";
import { vectorAvailable } from "./db/vector";
import type { AppDeps } from "./deps";
import type { Env } from "./env";
import { handleHealth } from "./http/health";
import { handleInternal } from "./http/internal";
import { createJwksHandler } from "./http/jwks";
import { createNotificationsHandler } from "./http/notifications";
import { sendProblem } from "./http/problem";
import { createRestHandler } from "./http/rest";
import { createTrpcHttpHandler } from "./http/trpcHttp";
import type { Logger } from "./observability/logger";
import { Metrics } from "./observability/metrics";
import type { Bus } from "./ports/bus";
import type { Limiter } from "./ports/limiter";
import { MemoryBus } from "./ports/memoryBus";
import { MemoryLimiter } from "./ports/memoryLimiter";
import { MemoryPresence } from "./ports/memoryPresence";
import type { PresenceRegistry } from "./ports/presence";
import { RedisBus } from "./ports/redisBus";
import { RedisLimiter } from "./ports/redisLimiter";
import { RedisPresence } from "./ports/redisPresence";
import { RealtimeHub } from "./realtime/hub";
import { attachWebSockets } from "./realtime/wsServer";
import { appRouter } from "./routers";
import { AuthService } from "./services/authService";
import { CanvasSync } from "./services/canvasSync";
import { ensureDemo } from "./services/demo";
import { PresenceService } from "./services/presenceService";
import { createSocketCalls } from "./trpc/socketCaller";

export type { AppDeps };

export interface App {
  deps: AppDeps;
  server: Server;
  /** The API's base URL, e.g. http://127.0.0.1:4000 */
  url: string;
  /** Stops in reverse order of start; idempotent. */
  stop(): Promise<void>;
}

/**
 * The composition root: builds every dependency from validated configuration, starts the HTTP
 * server, and returns a `stop()` that drains and closes everything in reverse order.
 */
export async function startApp(env: Env, log: Logger): Promise<App> {
  const stack: { name: string; close: () => Promise<void> }[] = [];
  const started = Date.now();
  try {
    let db: Database;
    if (env.DATABASE_URL) {
      if (env.DATABASE_URL_DIRECT && env.DATABASE_URL_DIRECT !== env.DATABASE_URL) {
        // Migrations are session-scoped work: never through PgBouncer (OPS-3).
        const direct = createPgDatabase(env.DATABASE_URL_DIRECT, {
          max: 1,
          applicationName: "potentia-migrate",
        });
        try {
          await migrate(direct, { log: (line) => log.info(line) });
        } finally {
          await direct.close();
        }
      }
      db = createPgDatabase(env.DATABASE_URL, {
        max: env.DATABASE_POOL_SIZE,
        statementTimeoutMs: env.STATEMENT_TIMEOUT_MS,
        applicationName: "potentia-api",
      });
      stack.push({ name: "db", close: () => db.close() });
      if (!env.DATABASE_URL_DIRECT || env.DATABASE_URL_DIRECT === env.DATABASE_URL) {
        await migrate(db, { log: (line) => log.info(line) });
      }
    } else {
      const dir = path.resolve(env.DATA_DIR, "pglite");
      db = await createPgliteDatabase(dir);
      stack.push({ name: "db", close: () => db.close() });
      await migrate(db, { log: (line) => log.info(line) });
    }

    if (env.WORKERS === "on") {
      const partitions = createPartitionsWorker(db, {
        onError: (error) => log.error({ err: error, worker: "audit-partitions" }, "worker run failed"),
      });
      await partitions.start();
      stack.push({ name: partitions.name, close: () => partitions.stop() });
    }

    const bus: Bus = env.REDIS_URL
      ? new RedisBus({ url: env.REDIS_URL, prefix: env.REDIS_PREFIX, logger: log.child({ port: "bus" }) })
      : new MemoryBus();
    stack.push({ name: "bus", close: () => bus.close() });

    const limiter: Limiter = env.REDIS_URL
      ? new RedisLimiter({
          url: env.REDIS_URL,
          prefix: env.REDIS_PREFIX,
          logger: log.child({ port: "limiter" }),
        })
      : new MemoryLimiter();
    stack.push({ name: "limiter", close: () => limiter.close() });
    const metrics = new Metrics();
    const presence: PresenceRegistry = env.REDIS_URL
      ? new RedisPresence({ url: env.REDIS_URL, prefix: env.REDIS_PREFIX })
      : new MemoryPresence();
    stack.push({ name: "presence", close: () => presence.close() });

    const canvasSync = new CanvasSync({
      db,
      bus,
      rpcRate: env.RATE_LIMITS.RPC,
      onError: (error, context) => log.error({ err: error, context }, "canvasSync error"),
      onCommitted: (results, seconds) => {
        metrics.opsCommitted(results, seconds);
        // MUT-7 refusals happen in the database: count them with the other limits.
        if (results.some((r) => r.error?.code === "rate_limited")) metrics.rateLimited("RPC");
      },
    });
    stack.push({ name: "canvasSync", close: () => canvasSync.close() });

    let draining = false;
    const probe = {
      draining: () => draining,
      db: async () => (await db.query("SELECT 1 AS ok")).length === 1,
      redis: () => (env.REDIS_URL ? Promise.resolve(bus.isHealthy()) : null),
      vector: () => vectorAvailable(db),
    };
    // AUTH-2: keys from the environment in production (parseEnv requires them), else generated
    // into DATA_DIR once.
    const keys = await loadSigningKeys({
      privateKey: env.JWT_PRIVATE_KEY,
      publicKeys: env.JWT_PUBLIC_KEYS,
      dataDir: env.DATA_DIR,
    });
    const tokens = new AccessTokens(keys);
    const auth = new AuthService({ db, tokens });
    const jwks = createJwksHandler(keys.jwks);
    if (env.mode === "single-node" && env.DEMO === "on") {
      const demo = await ensureDemo({ db, bus, canvasSync }, auth);
      log.info({ email: demo.email, password: demo.password, canvas_id: demo.canvasId }, "demo account");
    }
    const presenceService = new PresenceService({ db, bus, registry: presence });
    const deps: AppDeps = {
      env,
      log,
      db,
      bus,
      canvasSync,
      keys,
      tokens,
      auth,
      limiter,
      metrics,
      presence,
      presenceService,
    };
    let baseUrl = "";
    const rest = createRestHandler(deps, appRouter, () => baseUrl);
    const trpcHttp = createTrpcHttpHandler(deps, appRouter);
    const notifications = createNotificationsHandler({
      tokens,
      bus,
      onError: (error) => log.error({ err: error }, "notifications stream error"),
    });
    const server = createServer((req, res) => {
      (async () =>
        (await handleHealth(req, res, probe)) ||
        jwks(req, res) ||
        (await handleInternal(req, res, deps)) ||
        (await notifications(req, res)) ||
        (await trpcHttp(req, res)) ||
        (await rest(req, res)))()
        .then((handled) => {
          if (!handled) sendProblem(res, 404, "not_found", "no such route");
        })
        .catch((error) => {
          log.error({ err: error }, "request failed");
          if (!res.headersSent) sendProblem(res, 500, "internal", "An unexpected error occurred.");
          else res.destroy();
        });
    });
    // Proxies in front (the web app's, a load balancer) keep idle connections open for reuse:
    // the server must outlast them, or a request sent just as it closes one gets a reset.
    server.keepAliveTimeout = 65_000;
    server.headersTimeout = 66_000;
    // H1: the real-time engine on the same port (RT-1..7).
    const hub = new RealtimeHub({
      db,
      bus,
      presence: presenceService,
      // RT-2: the socket's mutations go through the same procedures as HTTP.
      calls: createSocketCalls(deps, appRouter),
      maxBufferedBytes: env.WS_MAX_BUFFERED_BYTES,
      socketRate: env.RATE_LIMITS.H1,
      limits: {
        subscriptionsPerSocket: env.WS_MAX_SUBSCRIPTIONS,
        socketsPerUserCanvas: env.WS_MAX_SOCKETS_PER_USER_CANVAS,
        socketsPerUser: env.WS_MAX_SOCKETS_PER_USER,
      },
      onError: (error, context) => log.error({ err: error, context }, "realtime error"),
      onConnection: (delta) => metrics.wsConnection(delta),
      // The block's updated_at is its commit transaction's time: commit → delivery here.
      onDelivered: (event) => {
        const committedAt = event.updated_at ?? event.block?.updated_at;
        if (committedAt) metrics.fanoutDelay((Date.now() - Date.parse(committedAt)) / 1000);
      },
    });
    const sockets = attachWebSockets(server, {
      hub,
      tokens,
      allowedOrigins: env.ALLOWED_ORIGINS,
      heartbeatMs: env.WS_HEARTBEAT_MS,
      trustedProxies: env.TRUSTED_PROXIES,
      accepting: () => !draining,
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(env.API_PORT, env.HOST, () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    const url = `http://${env.HOST.includes(":") ? `[${env.HOST}]` : env.HOST}:${port}`;
    baseUrl = url;
    log.info(
      { url, mode: env.mode, db: db.kind, bus: bus.kind, ms: Date.now() - started },
      "API server listening",
    );

    let stopping: Promise<void> | undefined;
    const stop = () => {
      stopping ??= (async () => {
        draining = true;
        // Sockets are told to reconnect elsewhere (1001, OPS-5); then stop accepting, let
        // in-flight requests finish, and close the rest in reverse order.
        await sockets.close();
        notifications.closeAll();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
        });
        for (const part of stack.reverse()) {
          try {
            await part.close();
          } catch (error) {
            log.error({ err: error, part: part.name }, "error while stopping");
          }
        }
        log.info("API server stopped");
      })();
      return stopping;
    };
    return { deps, server, url, stop };
  } catch (error) {
    for (const part of stack.reverse()) await part.close().catch(() => {});
    throw error;
  }
}
