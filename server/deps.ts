import type { SigningKeys } from "./auth/keys";
import type { AccessTokens } from "./auth/tokens";
import type { Database } from "./db/sql";
import type { Env } from "./env";
import type { Logger } from "./observability/logger";
import type { Metrics } from "./observability/metrics";
import type { Bus } from "./ports/bus";
import type { Limiter } from "./ports/limiter";
import type { PresenceRegistry } from "./ports/presence";
import type { AuthService } from "./services/authService";
import type { CanvasSync } from "./services/canvasSync";
import type { PresenceService } from "./services/presenceService";

/**
 * Everything a request handler may use, built once by the composition root (`app.ts`). Its own
 * module so that the handlers' context (`trpc/context.ts`) does not import the root that imports
 * them.
 */
export interface AppDeps {
  env: Env;
  log: Logger;
  db: Database;
  bus: Bus;
  canvasSync: CanvasSync;
  keys: SigningKeys;
  tokens: AccessTokens;
  /** Identity (AUTH-1..3): register, login, refresh rotation, logout. */
  auth: AuthService;
  /** API-2 rate limits: shared through Redis in production, per process otherwise. */
  limiter: Limiter;
  /** OPS-1 metrics of this instance (its own registry), served at S1 `/metrics`. */
  metrics: Metrics;
  /** RT-7: who is online where (Redis in production, so no process's death leaves ghosts). */
  presence: PresenceRegistry;
  /** RT-7 / RT-10: presence calls and socket lifecycles (one per process: it caches its checks). */
  presenceService: PresenceService;
}
