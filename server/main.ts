import { startApp } from "./app";
import { ConfigError, parseEnvOrExit } from "./env";
import { createLogger } from "./observability/logger";

// CMD-1: a bad or missing setting stops the process with one clear line naming it.
const env = parseEnvOrExit();

const log = createLogger(env.LOG_LEVEL);
const app = await startApp(env, log).catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`potentia: ${error.message}\n`);
    process.exit(78);
  }
  log.fatal({ err: error }, "API server failed to start");
  process.exit(1);
});

let signalled = false;
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    if (signalled) return;
    signalled = true;
    log.info({ signal }, "stopping");
    app
      .stop()
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        log.error({ err: error }, "unclean stop");
        process.exit(1);
      });
  });
}
