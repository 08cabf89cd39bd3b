/**
 * `npm run bench` — committed mutations per second through the real path
 * (zod validation → rpc_mutate_batch / rpc_upsert_block_atomic → COMMIT → publish), against a
 * baseline of one bare transaction per op of the same SQL shape, on server PostgreSQL.
 *
 * Database: BENCH_DATABASE_URL, else DATABASE_URL_DIRECT / DATABASE_URL, else the local server
 * at postgres://postgres@127.0.0.1:5432/postgres. A scratch database is created and dropped.
 * Prints a table and writes bench-results/mutations.json.
 */
import { randomUUID } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { migrate } from "../../server/db/migrate";
import { createPgDatabase } from "../../server/db/pgDatabase";
import type { Database } from "../../server/db/sql";
import { MemoryBus } from "../../server/ports/memoryBus";
import { CanvasSync } from "../../server/services/canvasSync";

const DURATION_MS = Number(process.env.BENCH_SECONDS ?? 8) * 1000;
const serverUrl =
  process.env.BENCH_DATABASE_URL ??
  process.env.DATABASE_URL_DIRECT ??
  process.env.DATABASE_URL ??
  "postgres://postgres@127.0.0.1:5432/postgres";

interface Row {
  scenario: string;
  writers: number;
  ops: number;
  seconds: number;
  ops_per_s: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
  /** CPU per op (µs): this process, and the local server's backends of the scratch database
   * (0 when the server is not on this host; WAL writer and other shared processes not counted). */
  node_us_per_op: number;
  pg_us_per_op: number;
  published?: number;
}

/** The scratch database's name, to tell its backends from other work on a shared server. */
let benchDbName = "";

/** CPU seconds of this host's backends of the scratch database (Linux /proc; 0 elsewhere). */
function postgresCpuSeconds(): number {
  let ticks = 0;
  try {
    for (const pid of readdirSync("/proc")) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        // A backend's process title: "postgres: <user> <database> <client> <state>".
        if (!readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(` ${benchDbName} `)) continue;
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        const close = stat.lastIndexOf(")");
        if (!stat.slice(stat.indexOf("(") + 1, close).startsWith("postgres")) continue;
        const fields = stat.slice(close + 2).split(" ");
        ticks += Number(fields[11]) + Number(fields[12]); // utime, stime
      } catch {
        // the process ended
      }
    }
  } catch {
    return 0;
  }
  return ticks / 100;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** Runs `writers` closed-loop writers for DURATION_MS; each `step` is one acknowledged op. */
async function run(scenario: string, writers: number, step: (w: number) => Promise<void>): Promise<Row> {
  const latencies: number[] = [];
  const pg0 = postgresCpuSeconds();
  const node0 = process.cpuUsage();
  const deadline = performance.now() + DURATION_MS;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        await step(w);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const node = process.cpuUsage(node0);
  const pgSeconds = postgresCpuSeconds() - pg0;
  latencies.sort((a, b) => a - b);
  return {
    scenario,
    writers,
    ops: latencies.length,
    seconds: Number(seconds.toFixed(2)),
    ops_per_s: Math.round(latencies.length / seconds),
    p50_ms: Number(quantile(latencies, 0.5).toFixed(2)),
    p95_ms: Number(quantile(latencies, 0.95).toFixed(2)),
    p99_ms: Number(quantile(latencies, 0.99).toFixed(2)),
    node_us_per_op: Math.round((node.user + node.system) / Math.max(1, latencies.length)),
    pg_us_per_op: Math.round((pgSeconds * 1e6) / Math.max(1, latencies.length)),
  };
}

async function seed(db: Database, blocks: number) {
  const user = randomUUID();
  const canvas = randomUUID();
  await db.query("INSERT INTO users (user_id, email, name, password_hash) VALUES ($1, $2, 'Bench', 'x')", [
    user,
    `${user}@bench.test`,
  ]);
  await db.query("INSERT INTO canvas (canvas_id, title, owner_id) VALUES ($1, 'bench', $2)", [canvas, user]);
  const ids = Array.from({ length: blocks }, () => randomUUID());
  const sync = new CanvasSync({ db, bus: new MemoryBus(), rpcRate: { points: 1e9, duration: 60 } });
  await sync.mutate({
    canvasId: canvas,
    userId: user,
    ops: ids.map((id) => ({
      client_op_id: randomUUID(),
      action: "create",
      block_id: id,
      type: "text",
      content: "",
    })),
  });
  await sync.close();
  return { user, canvas, ids };
}

async function productScenario(db: Database, name: string, writers: number, hot: boolean): Promise<Row> {
  const { user, canvas, ids } = await seed(db, hot ? 1 : writers);
  const bus = new MemoryBus();
  let published = 0;
  await bus.subscribe(`canvas:${canvas}`, (m) => {
    published += (JSON.parse(m) as { events: unknown[] }).events.length;
  });
  const sync = new CanvasSync({ db, bus, rpcRate: { points: 1e9, duration: 60 } });
  const versions = ids.map(() => 1);
  let failures = 0;
  const row = await run(name, writers, async (w) => {
    const blockId = hot ? ids[0]! : ids[w]!;
    // Hot block: everyone types into one block against a version they saw (MUT-5 merges);
    // distinct blocks: each writer edits its own block's text.
    const base = hot ? Math.max(1, versions[0]! - 3) : versions[w]!;
    const { results } = await sync.mutate({
      canvasId: canvas,
      userId: user,
      ops: [
        {
          client_op_id: randomUUID(),
          action: "update",
          block_id: blockId,
          base_version: base,
          text_op: ["x"],
        },
      ],
    });
    const r = results[0]!;
    if (r.status !== "success") failures++;
    else if (hot) versions[0] = Math.max(versions[0]!, r.version!);
    else versions[w] = r.version!;
  });
  await sync.close();
  await bus.close();
  if (failures > 0) throw new Error(`${name}: ${failures} ops did not succeed`);
  return { ...row, published };
}

/** Baseline: the same SQL shape as one op, as one bare transaction per op, no batching. */
async function baselineScenario(url: string, name: string, writers: number): Promise<Row> {
  const pool = new pg.Pool({ connectionString: url, max: writers });
  pool.on("error", () => {});
  const db = createPgDatabase(url, { max: 2 });
  const { user, canvas, ids } = await seed(db, writers);
  await db.close();
  const versions = ids.map(() => 1);
  const row = await run(name, writers, async (w) => {
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      const [{ seq }] = (await client.query("SELECT nextval('seq_block_events') AS seq")).rows;
      const { rows } = await client.query(
        "SELECT version, content FROM blocks WHERE block_id = $1 FOR UPDATE",
        [ids[w]],
      );
      const version = rows[0].version + 1;
      await client.query(
        "UPDATE blocks SET content = $2, version = $3, updated_at = now() WHERE block_id = $1",
        [ids[w], `x${rows[0].content}`, version],
      );
      const payload = JSON.stringify({ text_op: ["x"] });
      await client.query(
        `INSERT INTO block_operations (server_seq, canvas_id, block_id, client_op_id, user_id, action, status, version, payload, payload_hash, result)
         VALUES ($1, $2, $3, $4, $5, 'update', 'success', $6, $7::jsonb, md5($7::text), '{}'::jsonb)`,
        [seq, canvas, ids[w], randomUUID(), user, version, payload],
      );
      await client.query(
        "INSERT INTO system_audit (actor_id, canvas_id, action, target_id, status, affected_rows) VALUES ($1, $2, 'op.update', $3, 'success', 1)",
        [user, canvas, ids[w]],
      );
      await client.query("COMMIT");
      versions[w] = version;
    } finally {
      client.release();
    }
  });
  await pool.end();
  return row;
}

async function main() {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  const [{ fsync }] = (await admin.query("SHOW fsync")).rows;
  const [{ synchronous_commit }] = (await admin.query("SHOW synchronous_commit")).rows;
  const [{ version }] = (await admin.query("SELECT version()")).rows;
  const dbName = `potentia_bench_${Date.now()}`;
  benchDbName = dbName;
  await admin.query(`CREATE DATABASE ${dbName}`);
  const u = new URL(serverUrl);
  u.pathname = `/${dbName}`;
  const url = u.toString();
  const rows: Row[] = [];
  try {
    const db = createPgDatabase(url, { max: 20 });
    await migrate(db);
    console.log(
      `PostgreSQL: ${version.split(",")[0]}; fsync=${fsync}; synchronous_commit=${synchronous_commit}`,
    );
    console.log(`${os.cpus().length} CPUs (${os.cpus()[0]?.model}); ${DURATION_MS / 1000}s per scenario\n`);
    // BENCH_ONLY=<substring>: run only the scenarios whose "name/writers" contains it (profiling).
    const only = process.env.BENCH_ONLY;
    const want = (name: string, writers: number) => !only || `${name}/${writers}`.includes(only);
    const scenarios: [string, number, () => Promise<Row>][] = [
      ["baseline: 1 bare tx per op", 1, () => baselineScenario(url, "baseline: 1 bare tx per op", 1)],
      ["product: distinct blocks", 1, () => productScenario(db, "product: distinct blocks", 1, false)],
      ["baseline: 1 bare tx per op", 16, () => baselineScenario(url, "baseline: 1 bare tx per op", 16)],
      ["product: distinct blocks", 16, () => productScenario(db, "product: distinct blocks", 16, false)],
      [
        "product: one hot block (text ops)",
        16,
        () => productScenario(db, "product: one hot block (text ops)", 16, true),
      ],
    ];
    for (const [name, writers, scenario] of scenarios) if (want(name, writers)) rows.push(await scenario());
    await db.close();
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.end();
  }
  console.table(rows);
  const base16 = rows.find((r) => r.scenario.startsWith("baseline") && r.writers === 16);
  const prod16 = rows.find((r) => r.scenario === "product: distinct blocks" && r.writers === 16);
  if (!base16 || !prod16) return;
  const ratio = prod16.ops_per_s / base16.ops_per_s;
  console.log(
    `\n16 writers: product ${prod16.ops_per_s} ops/s vs baseline ${base16.ops_per_s} ops/s = ${ratio.toFixed(2)}x (target >= 2x): ${ratio >= 2 ? "MET" : "NOT MET"}`,
  );
  const out = {
    when: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      model: os.cpus()[0]?.model,
      mem_gb: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
    },
    postgres: { version, fsync, synchronous_commit },
    seconds_per_scenario: DURATION_MS / 1000,
    rows,
    ratio_16_writers: Number(ratio.toFixed(2)),
    target_met: ratio >= 2,
  };
  const dir = path.resolve("bench-results");
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, "mutations.json"), `${JSON.stringify(out, null, 2)}\n`);
  console.log(`wrote ${path.join(dir, "mutations.json")}`);
}

await main();
