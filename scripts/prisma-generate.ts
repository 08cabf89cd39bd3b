/**
 * `npm run db:generate`: generates the Prisma client into generated/prisma (git-ignored).
 *
 * `prisma generate` insists on downloading the schema engine even though Prisma 7's client
 * (driver adapters, query compiler in WASM) never uses it; where binaries.prisma.sh is not
 * reachable that download fails. Pointing PRISMA_SCHEMA_ENGINE_BINARY at any existing file
 * skips the download, and generation itself does not run the engine.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);
const prismaCli = join(dirname(require.resolve("prisma/package.json")), "build", "index.js");

/** A schema engine that an earlier (online) install already downloaded, if any. */
function downloadedEngine(): string | null {
  try {
    const dir = dirname(require.resolve("@prisma/engines/package.json"));
    const file = readdirSync(dir).find((f) => f.startsWith("schema-engine"));
    return file ? join(dir, file) : null;
  } catch {
    return null;
  }
}

const env = { ...process.env };
if (!env.PRISMA_SCHEMA_ENGINE_BINARY || !existsSync(env.PRISMA_SCHEMA_ENGINE_BINARY)) {
  // The running node binary is a file that certainly exists; generate only checks for one.
  env.PRISMA_SCHEMA_ENGINE_BINARY = downloadedEngine() ?? process.execPath;
}
// No telemetry or update checks from a build step.
env.CHECKPOINT_DISABLE = "1";

const result = spawnSync(process.execPath, [prismaCli, "generate", ...process.argv.slice(2)], {
  env,
  stdio: "inherit",
});
if (result.error) {
  console.error(`prisma generate could not start: ${result.error.message}`);
  process.exit(1);
}
process.exit(result.status ?? 1);
