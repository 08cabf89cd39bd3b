/**
 * `npm run bench:fanout` — real-time fan-out (RT-3, SPEC §4): N WebSocket clients subscribed to
 * `sync.events` on one canvas, W writers committing small `update` text ops (durable commits on
 * server PostgreSQL) at a total rate R; measures send → every-receiver latency (p50/p95/p99/max),
 * losses (every receiver must see every committed op exactly once) and the server's CPU.
 * The same sweep runs against a bare `ws` relay (tests/bench/bareRelay.ts) as the physical
 * baseline: same N, same R, same message size, same clients and measurement.
 *
 * The API server and the relay each run in a child process (their CPU is read from /proc); the
 * receivers run in worker threads of this process, the writers on its main thread.
 *
 * Targets (issue): N=1000, R=20: p95 ≤ 2× the relay's p95 and zero loss; N=1000: the highest
 * R with p95 < 100 ms is ≥ 0.8× the relay's.
 *
 * Presence storms (RT-10, issue 10): after the sweep, `users` on the canvas of whom `movers` move
 * their cursor `hz` times a second (each mover its own user and socket, sending sync.presence)
 * while the writers commit `edits` ops a second; the other users are the receivers. Reported:
 * op p50/p95, lost/duplicated ops, presence frames per receiver per second (max and mean),
 * whether every receiver sampled ended on each mover's last position, and a verdict (op p95 <
 * 100 ms, nothing lost, ≤ 20 presence frames/s per receiver, last positions right).
 * BENCH_PRESENCE ("300:50:20:10,1000:100:20:20" = users:movers:hz:edits; "" skips them).
 *
 * Settings (env): BENCH_N (1000), BENCH_WRITERS (20), BENCH_SECONDS per rate (5),
 * BENCH_RATES ("20,50,100,150,200,250,300,400"), BENCH_THREADS receiver threads (1),
 * BENCH_ONLY=product|relay|presence, BENCH_CPU_PROF=<dir> (--cpu-prof of the server child),
 * BENCH_REDIS=1 (fan out through Redis pub/sub at REDIS_URL, default redis://127.0.0.1:6379),
 * BENCH_DATABASE_URL (server to create the scratch database on; default the local direct
 * postgres://postgres@127.0.0.1:5432/postgres), BENCH_NICE=-10 (priority of this process and
 * the children), BENCH_FRAME_BYTES (the relay's message size; default: the product's frames).
 * Writes bench-results/fanout.json. Results and method: docs/BENCHMARKS.md.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { Worker } from "node:worker_threads";
import pg from "pg";
import WebSocket from "ws";

const N = Number(process.env.BENCH_N ?? 1000);
const W = Number(process.env.BENCH_WRITERS ?? 20);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const RATES = (process.env.BENCH_RATES ?? "20,50,100,150,200,250,300,400").split(",").map(Number);
const THREADS = Math.max(1, Number(process.env.BENCH_THREADS ?? 1));
const ONLY = process.env.BENCH_ONLY;
/** Presence storms: users, movers, moves per second per mover, edits per second. */
interface PresenceScenario {
  users: number;
  movers: number;
  hz: number;
  edits: number;
}
const PRESENCE: PresenceScenario[] = (process.env.BENCH_PRESENCE ?? "300:50:20:10,1000:100:20:20")
  .split(",")
  .filter((t) => t.trim() !== "")
  .map((t) => {
    const [users, movers, hz, edits] = t.split(":").map(Number);
    return { users: users!, movers: movers!, hz: hz!, edits: edits! };
  });
/** RT-10: at most one presence frame per receiver per 50 ms. */
const PRESENCE_HZ_LIMIT = 20;
const P95_LIMIT_MS = 100;
/** BENCH_NICE=-10: run this process and the children at that priority (the cores are shared). */
const NICE = process.env.BENCH_NICE === undefined ? null : Number(process.env.BENCH_NICE);
/** Linux priority is per thread: applies NICE to every thread of this process (workers included). */
function reniceSelf(): void {
  if (NICE === null) return;
  try {
    for (const tid of readdirSync(`/proc/${process.pid}/task`)) os.setPriority(Number(tid), NICE);
  } catch {
    os.setPriority(NICE);
  }
}
const serverDbUrl = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

/** Wall clock in µs since BASE_MS, shared by all threads (timeOrigin + now is absolute). */
const BASE_MS = Date.now();
const nowUs = () => Math.round((performance.timeOrigin + performance.now() - BASE_MS) * 1000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const nonce = randomBytes(3).toString("hex");

/**
 * The client_op_id carries what the receivers need, so they never parse the frame:
 * `kkkkkkkk-pppp-4nnn-8nnn-tttttttttttt` = op index k in phase p, run nonce, send time (µs).
 */
function opId(phase: number, k: number, sentUs: number): string {
  const hex = (v: number, n: number) => v.toString(16).padStart(n, "0");
  return `${hex(k, 8)}-${hex(phase, 4)}-4${nonce.slice(0, 3)}-8${nonce.slice(3, 6)}-${hex(sentUs, 12)}`;
}

// ---------------------------------------------------------------------------------------------
// Receivers: plain JS in worker threads (no TypeScript loader needed there).
const RECEIVER = `
const { parentPort, workerData } = require("node:worker_threads");
const WebSocket = require(workerData.wsPath);
const BASE_MS = workerData.baseMs;
const BUCKET_US = 50, BUCKETS = 200000; // 50 µs buckets up to 10 s
const MARK = Buffer.from('"client_op_id":"');
const PMARK = Buffer.from('"type":"presence"');
const socks = [];
let phase = null; // { id, seen: Uint8Array[] per socket, maxK, hist, max, got, dups, foreign }
let late = 0, closed = 0, bytes = 0, frames = 0;
function onFrame(i, data) {
  const at = data.indexOf(MARK);
  if (at < 0) {
    // RT-10 presence frames: counted per receiver; the first socket of a thread also reads them.
    if (phase && data.indexOf(PMARK) >= 0) {
      const t = performance.now();
      if (phase.pres[i]++ === 0) phase.presFirst[i] = t;
      phase.presLast[i] = t;
      if (i === 0) {
        for (const u of JSON.parse(data).result.data.users) phase.latest[u.user_id] = u.cursor ? u.cursor.x : null;
      }
    }
    return;
  }
  const s = data.toString("latin1", at + MARK.length, at + MARK.length + 36);
  const now = Math.round((performance.timeOrigin + performance.now() - BASE_MS) * 1000);
  bytes += data.length; frames++;
  const p = parseInt(s.slice(9, 13), 16);
  if (!phase || p !== phase.id) { late++; return; }
  const k = parseInt(s.slice(0, 8), 16);
  const lat = now - parseInt(s.slice(24, 36), 16);
  const seen = phase.seen[i];
  if (k >= phase.maxK) { phase.foreign++; return; }
  if (seen[k]) { phase.dups++; return; }
  seen[k] = 1;
  phase.got++;
  phase.hist[Math.min(BUCKETS - 1, Math.max(0, Math.floor(lat / BUCKET_US)))]++;
  if (lat > phase.max) phase.max = lat;
}
function open(url, subscribe) {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const i = socks.length;
    socks.push(ws);
    let done = false;
    const finish = (ok) => { if (!done) { done = true; resolve(ok); } };
    ws.on("open", () => {
      if (!subscribe) return finish(true);
      ws.send(subscribe);
    });
    ws.on("message", (data) => {
      if (!done) {
        // Live once the subscription has started (nothing else is sent before it).
        if (String(data).includes('"started"')) finish(true);
        return;
      }
      onFrame(i, data);
    });
    ws.on("error", () => finish(false));
    ws.on("close", () => { closed++; finish(false); });
  });
}
parentPort.on("message", async (m) => {
  if (m.cmd === "connect") {
    let ok = 0;
    for (let i = 0; i < m.count; i += 25) {
      const batch = [];
      for (let j = i; j < Math.min(m.count, i + 25); j++) batch.push(open(m.url, m.subscribe));
      ok += (await Promise.all(batch)).filter(Boolean).length;
    }
    parentPort.postMessage({ cmd: "connected", ok });
  } else if (m.cmd === "start") {
    phase = { id: m.phase, maxK: m.maxK, seen: socks.map(() => new Uint8Array(m.maxK)),
      hist: new Uint32Array(BUCKETS), max: 0, got: 0, dups: 0, foreign: 0,
      pres: new Uint32Array(socks.length), presFirst: new Float64Array(socks.length),
      presLast: new Float64Array(socks.length), latest: {} };
    late = 0;
    parentPort.postMessage({ cmd: "started" });
  } else if (m.cmd === "count") {
    parentPort.postMessage({ cmd: "count", got: phase ? phase.got : 0 });
  } else if (m.cmd === "stop") {
    const expected = m.expected; // the op indexes that must arrive (committed / sent)
    let lost = 0;
    for (const seen of phase.seen) for (const k of expected) if (!seen[k]) lost++;
    // Presence frames per second of each receiver, between its first and its last one.
    let presMax = 0, presSum = 0, presReceivers = 0;
    phase.pres.forEach((c, j) => {
      if (c < 2) return;
      const hz = (c - 1) / ((phase.presLast[j] - phase.presFirst[j]) / 1000);
      presSum += hz; presReceivers++;
      if (hz > presMax) presMax = hz;
    });
    const r = { cmd: "stats", hist: phase.hist, max: phase.max, got: phase.got, dups: phase.dups,
      foreign: phase.foreign, lost, late, closed, avgBytes: frames ? bytes / frames : 0,
      presMax, presSum, presReceivers, latest: phase.latest };
    phase = null;
    parentPort.postMessage(r, [r.hist.buffer]);
  } else if (m.cmd === "close") {
    for (const ws of socks) ws.terminate();
    setTimeout(() => process.exit(0), 100);
  }
});
`;

/** What a receiver thread answers (one shape for every command). */
interface ThreadReply {
  ok: number;
  got: number;
  hist: Uint32Array;
  max: number;
  dups: number;
  foreign: number;
  lost: number;
  closed: number;
  avgBytes: number;
  /** Presence frames per second per receiver (first to last frame): the highest, their sum, how many. */
  presMax: number;
  presSum: number;
  presReceivers: number;
  /** The sampled receiver's last cursor x per user. */
  latest: Record<string, number | null>;
}

class Receivers {
  /** Receivers connected (and subscribed). */
  n = 0;
  private readonly workers: Worker[] = [];
  private readonly waiting = new Map<Worker, ((m: ThreadReply) => void)[]>();

  constructor(threads: number) {
    const wsPath = createRequire(import.meta.url).resolve("ws");
    for (let t = 0; t < threads; t++) {
      const w = new Worker(RECEIVER, { eval: true, workerData: { wsPath, baseMs: BASE_MS } });
      this.waiting.set(w, []);
      w.on("message", (m) => this.waiting.get(w)!.shift()?.(m));
      w.on("error", (e) => console.error("receiver thread failed", e));
      this.workers.push(w);
    }
    // The threads exist once they are online; renice them too.
    void Promise.all(this.workers.map((w) => new Promise((r) => w.once("online", r)))).then(reniceSelf);
  }

  private ask(w: Worker, message: unknown): Promise<ThreadReply> {
    return new Promise((resolve) => {
      this.waiting.get(w)!.push(resolve);
      w.postMessage(message);
    });
  }

  private all(make: (t: number) => unknown): Promise<ThreadReply[]> {
    return Promise.all(this.workers.map((w, t) => this.ask(w, make(t))));
  }

  async connect(url: string, subscribe: string | null, n: number): Promise<number> {
    const share = (t: number) => Math.floor(n / this.workers.length) + (t < n % this.workers.length ? 1 : 0);
    const out = await this.all((t) => ({ cmd: "connect", url, subscribe, count: share(t) }));
    return out.reduce((s, m) => s + m.ok, 0);
  }

  async start(phase: number, maxK: number): Promise<void> {
    await this.all(() => ({ cmd: "start", phase, maxK }));
  }

  async received(): Promise<number> {
    return (await this.all(() => ({ cmd: "count" }))).reduce((s, m) => s + m.got, 0);
  }

  async stop(expected: number[]) {
    const parts = await this.all(() => ({ cmd: "stop", expected }));
    const hist = new Uint32Array(parts[0]!.hist.length);
    for (const p of parts) for (let i = 0; i < hist.length; i++) hist[i]! += p.hist[i]!;
    const sum = (k: "got" | "dups" | "foreign" | "lost" | "closed") => parts.reduce((s, p) => s + p[k], 0);
    return {
      hist,
      max: Math.max(...parts.map((p) => p.max)),
      got: sum("got"),
      dups: sum("dups"),
      foreign: sum("foreign"),
      lost: sum("lost"),
      closed: sum("closed"),
      avgBytes: parts.reduce((s, p) => s + p.avgBytes, 0) / parts.length,
      presMax: Math.max(...parts.map((p) => p.presMax)),
      presMean:
        parts.reduce((s, p) => s + p.presSum, 0) /
        Math.max(
          1,
          parts.reduce((s, p) => s + p.presReceivers, 0),
        ),
      latest: parts.map((p) => p.latest),
    };
  }

  private closed = false;

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.workers) w.postMessage({ cmd: "close" });
    await Promise.all(this.workers.map((w) => new Promise((r) => w.once("exit", r))));
  }
}

function quantileMs(hist: Uint32Array, total: number, q: number): number {
  if (total === 0) return Number.NaN;
  const target = Math.ceil(q * total);
  let acc = 0;
  for (let i = 0; i < hist.length; i++) {
    acc += hist[i]!;
    if (acc >= target) return ((i + 1) * 50) / 1000; // bucket upper bound, ms
  }
  return Number.NaN;
}

/** utime + stime of a process, in seconds (Linux /proc). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU seconds of every local process named postgres (the product's commits; 0 elsewhere). */
function postgresCpuSeconds(): number {
  let ticks = 0;
  try {
    for (const pid of readdirSync("/proc")) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        const close = stat.lastIndexOf(")");
        if (!stat.slice(stat.indexOf("(") + 1, close).startsWith("postgres")) continue;
        const fields = stat.slice(close + 2).split(" ");
        ticks += Number(fields[11]) + Number(fields[12]);
      } catch {
        // the process ended
      }
    }
  } catch {
    return 0;
  }
  return ticks / 100;
}

/** Starts a child and resolves with the first stdout JSON line that `pick` accepts. */
function startChild(
  args: string[],
  env: Record<string, string | undefined>,
  pick: (line: Record<string, unknown>) => string | undefined,
): Promise<{ child: ChildProcess; value: string }> {
  return new Promise((resolve, reject) => {
    // `nice` execs node, so the pid is node's and every thread it starts inherits the priority.
    const [cmd, argv] =
      NICE === null ? [process.execPath, args] : ["nice", ["-n", String(NICE), process.execPath, ...args]];
    const child = spawn(cmd, argv, {
      env: env as unknown as NodeJS.ProcessEnv,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let buf = "";
    let found = false;
    const timer = setTimeout(() => reject(new Error(`${args.join(" ")}: no start line in 60 s`)), 60_000);
    child.stdout!.on("data", (chunk: Buffer) => {
      buf += chunk.toString();
      let nl = buf.indexOf("\n");
      while (nl >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        nl = buf.indexOf("\n");
        let parsed: Record<string, unknown> | null = null;
        try {
          parsed = JSON.parse(line) as Record<string, unknown>;
        } catch {
          // not JSON
        }
        const value = parsed && !found ? pick(parsed) : undefined;
        if (value) {
          found = true;
          clearTimeout(timer);
          resolve({ child, value });
        } else if (found && parsed && Number(parsed.level) >= 40) {
          process.stderr.write(`[child] ${line}\n`);
        }
      }
    });
    child.stderr!.on("data", (chunk: Buffer) => process.stderr.write(`[child] ${chunk}`));
    child.once("exit", (code) => {
      if (!found) {
        clearTimeout(timer);
        reject(new Error(`${args.join(" ")} exited with ${code}`));
      }
    });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await Promise.race([exited, sleep(10_000)]);
  if (child.exitCode === null) child.kill("SIGKILL");
}

function openSocket(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
  });
}

// ---------------------------------------------------------------------------------------------
/** One system under test: how its writers send op k of a phase, and which ops must arrive. */
interface Target {
  name: "product" | "relay";
  pid: number;
  /** Sends op k (writer k % W) and returns; `committed` lists the ops that must arrive. */
  send(phase: number, k: number): void;
  /** Resolves once every sent op is acknowledged (product) — what must arrive is then known. */
  settle(): Promise<number[]>;
  reset(): void;
  /** Send → commit acknowledgement (ms) of the phase's ops (product only). */
  acks(): number[];
  close(): Promise<void>;
}

interface Row {
  target: string;
  n: number;
  rate: number;
  sent: number;
  expected_deliveries: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
  max_ms: number;
  lost: number;
  dups: number;
  closed: number;
  server_cpu_pct: number;
  server_us_per_delivery: number;
  frame_bytes: number;
  /** Send → mutate acknowledged (committed), p50/p95: the part of the latency before fan-out. */
  ack_p50_ms: number | null;
  ack_p95_ms: number | null;
  /** This process (writers + receiver threads), % of one core. */
  client_cpu_pct: number;
  /** Every local postgres process (all databases: other work on the machine shows here too). */
  pg_cpu_pct: number;
  /** The machine's 1-minute load average at the end of the phase (other work shares the cores). */
  load1: number;
}

async function runPhase(
  target: Target,
  receivers: Receivers,
  phase: number,
  rate: number,
  seconds: number,
): Promise<Row> {
  const total = Math.round(rate * seconds);
  target.reset();
  await receivers.start(phase, total + 1);
  const cpu0 = cpuSeconds(target.pid);
  const client0 = process.cpuUsage();
  const pg0 = postgresCpuSeconds();
  const t0 = performance.now();
  // Open loop: op k is due at t0 + k / rate, whatever the server does.
  await new Promise<void>((resolve) => {
    let k = 0;
    const tick = () => {
      const elapsed = performance.now() - t0;
      while (k < total && (k * 1000) / rate <= elapsed) target.send(phase, k++);
      if (k >= total) return resolve();
      setTimeout(tick, Math.max(0, (k * 1000) / rate - (performance.now() - t0)));
    };
    tick();
  });
  const expected = await target.settle();
  const want = expected.length * receivers.n;
  const drainDeadline = performance.now() + 10_000;
  while (performance.now() < drainDeadline && (await receivers.received()) < want) await sleep(50);
  const wall = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(target.pid) - cpu0;
  const client = process.cpuUsage(client0);
  const pgCpu = postgresCpuSeconds() - pg0;
  const s = await receivers.stop(expected);
  const ms = (q: number) => Number(quantileMs(s.hist, s.got, q).toFixed(1));
  const acks = target.acks().sort((a, b) => a - b);
  const ack = (q: number) =>
    acks.length ? Number(acks[Math.min(acks.length - 1, Math.floor(q * acks.length))]!.toFixed(1)) : null;
  return {
    target: target.name,
    n: receivers.n,
    rate,
    sent: total,
    expected_deliveries: want,
    p50_ms: ms(0.5),
    p95_ms: ms(0.95),
    p99_ms: ms(0.99),
    max_ms: Number((s.max / 1000).toFixed(1)),
    lost: s.lost,
    dups: s.dups,
    closed: s.closed,
    server_cpu_pct: Math.round((cpu / wall) * 100),
    server_us_per_delivery: Number(((cpu * 1e6) / Math.max(1, s.got)).toFixed(1)),
    frame_bytes: Math.round(s.avgBytes),
    ack_p50_ms: ack(0.5),
    ack_p95_ms: ack(0.95),
    client_cpu_pct: Math.round((client.user + client.system) / 1e4 / wall),
    pg_cpu_pct: Math.max(0, Math.round((pgCpu / wall) * 100)),
    load1: Number(os.loadavg()[0]!.toFixed(1)),
  };
}

interface Sut {
  target: Target;
  receivers: Receivers;
  phase: number;
  lastPass: number;
  firstFail: number;
}

const passes = (row: Row) => row.p95_ms < P95_LIMIT_MS && row.closed === 0 && row.lost === 0;

/**
 * Sweeps the rates with the product's and the relay's phases interleaved (the same rate one after
 * the other, so that both see the same background load). A target stops after two failing rates
 * in a row (one failure on a shared machine can be noise); its highest passing rate counts. Then
 * one refinement between its highest pass and the next rate up, when that gap is over 25/s.
 */
async function sweep(suts: Sut[], rows: Row[]): Promise<void> {
  const run = async (sut: Sut, rate: number) => {
    const row = await runPhase(sut.target, sut.receivers, sut.phase++, rate, SECONDS);
    rows.push(row);
    console.log(JSON.stringify(row));
    return row;
  };
  const fails = new Map<Sut, number>();
  for (const rate of RATES) {
    const live = suts.filter((s) => !s.firstFail);
    if (live.length === 0) break;
    for (const sut of live) {
      if (passes(await run(sut, rate))) {
        sut.lastPass = rate;
        fails.set(sut, 0);
      } else {
        fails.set(sut, (fails.get(sut) ?? 0) + 1);
        if (fails.get(sut)! >= 2) sut.firstFail = rate;
      }
    }
  }
  for (const sut of suts) {
    const above = RATES.find((r) => r > sut.lastPass);
    if (sut.lastPass && above && above - sut.lastPass > 25) {
      const mid = Math.round((sut.lastPass + above) / 2 / 5) * 5;
      if (passes(await run(sut, mid))) sut.lastPass = mid;
    }
  }
}

// ---------------------------------------------------------------------------------------------
/** A sync.mutate answer, as much of it as the writers read. */
interface MutateReply {
  id?: number;
  result?: { data?: { results?: { status: string; version: number; block: { content: string } | null }[] } };
  error?: unknown;
}

/** The one bench user holds every receiver and writer socket (SEC-5 caps them per user by default). */
const MAX_SOCKETS = Math.max(N, ...PRESENCE.map((p) => p.users)) + W + 10;

/** What the presence storms need of the product beyond the sweep's target. */
interface ProductExtras {
  /** The API's base URL, the canvas and its owner's token. */
  url: string;
  canvas: string;
  token: string;
  dbUrl: string;
}

async function productTarget(
  dbUrl: string,
  dataDir: string,
): Promise<{ target: Target; wsUrl: string; extras: ProductExtras }> {
  const rateLimits = {
    H1: { points: 100_000, duration: 1 },
    H2: { points: 100_000, duration: 1 },
    RPC: { points: 10_000_000, duration: 60 },
    AUTH: { points: 1_000, duration: 1 },
    A1: { points: 1_000, duration: 1 },
    DEFAULT: { points: 100_000, duration: 1 },
  };
  const env: Record<string, string | undefined> = {
    PATH: process.env.PATH,
    NODE_ENV: "development",
    API_PORT: "0",
    HOST: "127.0.0.1",
    DATA_DIR: dataDir,
    LOG_LEVEL: "info",
    WORKERS: "off",
    DATABASE_URL: dbUrl,
    DATABASE_POOL_SIZE: "20",
    RATE_LIMITS: JSON.stringify(rateLimits),
    // One bench user holds all N + W sockets of the room (SEC-5 caps them per user by default).
    WS_MAX_SOCKETS_PER_USER_CANVAS: String(MAX_SOCKETS),
    WS_MAX_SOCKETS_PER_USER: String(MAX_SOCKETS),
  };
  if (process.env.BENCH_REDIS) env.REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
  const prof = process.env.BENCH_CPU_PROF;
  const args = [
    ...(prof ? ["--cpu-prof", `--cpu-prof-dir=${path.resolve(prof)}`] : []),
    "--import",
    "tsx",
    "server/main.ts",
  ];
  const { child, value: url } = await startChild(args, env, (l) =>
    l.msg === "API server listening" ? String(l.url) : undefined,
  );
  const post = async (pathname: string, body: unknown, token?: string) => {
    const res = await fetch(`${url}${pathname}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${pathname}: ${res.status} ${await res.text()}`);
    return (await res.json()) as Record<string, unknown>;
  };
  const session = await post("/api/v1/auth/register", {
    email: `fanout-${nonce}@bench.test`,
    password: "bench-password-123",
    name: "Fanout Bench",
  });
  const token = session.access_token as string;
  const canvas = (await post("/api/v1/canvas", { title: "fanout bench" }, token)).canvas_id as string;
  const wsUrl = `${url.replace(/^http/, "ws")}/ws/canvas/${canvas}?token=${token}`;

  // W writer sockets (not subscribed), each with its own block.
  const writers: { ws: WebSocket; block: string; version: number; len: number }[] = [];
  const pending = new Map<number, { resolve: (r: MutateReply) => void }>();
  let rpcId = 0;
  for (let w = 0; w < W; w++) {
    const ws = await openSocket(wsUrl);
    ws.on("message", (data) => {
      const m = JSON.parse(String(data)) as MutateReply;
      if (typeof m.id !== "number") return;
      const p = pending.get(m.id);
      pending.delete(m.id);
      p?.resolve(m);
    });
    writers.push({ ws, block: "", version: 1, len: 0 });
  }
  const mutate = (w: number, op: unknown): Promise<MutateReply> => {
    const id = ++rpcId;
    return new Promise((resolve) => {
      pending.set(id, { resolve });
      writers[w]!.ws.send(
        JSON.stringify({ id, method: "mutation", params: { path: "sync.mutate", input: { ops: [op] } } }),
      );
    });
  };
  for (let w = 0; w < W; w++) {
    const block = crypto.randomUUID();
    const r = await mutate(w, {
      client_op_id: crypto.randomUUID(),
      action: "create",
      block_id: block,
      type: "text",
      content: "",
    });
    const res = r.result?.data?.results?.[0];
    if (res?.status !== "success") throw new Error(`create block: ${JSON.stringify(r)}`);
    Object.assign(writers[w]!, { block, version: res.version, len: 0 });
  }

  let inflight: Promise<void>[] = [];
  let committed: number[] = [];
  let failed = 0;
  let acks: number[] = [];
  const target: Target = {
    name: "product",
    pid: child.pid!,
    reset() {
      inflight = [];
      committed = [];
      failed = 0;
      acks = [];
    },
    acks: () => acks,
    send(phase, k) {
      const w = k % W;
      const writer = writers[w]!;
      // Replace the block's text with a fixed-size marker: frames keep one size all run long.
      const marker = `edit ${String(k).padStart(8, "0")}`;
      const text_op = writer.len > 0 ? [{ d: writer.len }, marker] : [marker];
      const sentUs = nowUs();
      const op = {
        client_op_id: opId(phase, k, sentUs),
        action: "update",
        block_id: writer.block,
        base_version: writer.version,
        text_op,
      };
      inflight.push(
        mutate(w, op).then((r) => {
          acks.push((nowUs() - sentUs) / 1000);
          const res = r.result?.data?.results?.[0];
          if (res?.status === "success") {
            committed.push(k);
            if (res.version > writer.version) {
              writer.version = res.version;
              writer.len = [...(res.block?.content ?? "")].length;
            }
          } else failed++;
        }),
      );
    },
    async settle() {
      await Promise.all(inflight);
      if (failed > 0) console.warn(`product: ${failed} ops not committed`);
      return committed;
    },
    async close() {
      for (const { ws } of writers) ws.terminate();
      await stopChild(child);
    },
  };
  return { target, wsUrl, extras: { url, canvas, token, dbUrl } };
}

async function relayTarget(frameBytes: number): Promise<{ target: Target; wsUrl: string }> {
  const { child, value: url } = await startChild(
    ["--import", "tsx", "tests/bench/bareRelay.ts"],
    { PATH: process.env.PATH ?? "" },
    (l) => (typeof l.relay === "string" ? l.relay : undefined),
  );
  const writers: WebSocket[] = [];
  for (let w = 0; w < W; w++) writers.push(await openSocket(`${url}/?w=1`));
  let sent: number[] = [];
  // The same size as the product's frames, client_op_id first like the op event.
  const head = (id: string) => `{"type":"op","client_op_id":"${id}","pad":"`;
  const padLen = Math.max(0, frameBytes - head(opId(0, 0, 0)).length - 2);
  const pad = "x".repeat(padLen);
  const target: Target = {
    name: "relay",
    pid: child.pid!,
    reset() {
      sent = [];
    },
    acks: () => [],
    send(phase, k) {
      writers[k % W]!.send(`${head(opId(phase, k, nowUs()))}${pad}"}`);
      sent.push(k);
    },
    async settle() {
      return sent;
    },
    async close() {
      for (const ws of writers) ws.terminate();
      await stopChild(child);
    },
  };
  return { target, wsUrl: `${url}/` };
}

// ---------------------------------------------------------------------------------------------
// Presence storms (RT-10)

interface PresenceRow {
  scenario: string;
  receivers: number;
  movers: number;
  move_hz: number;
  edits_per_s: number;
  ops: number;
  op_p50_ms: number;
  op_p95_ms: number;
  lost: number;
  dups: number;
  closed: number;
  /** Presence frames per second of a receiver (first to last frame): the highest, and the mean. */
  presence_hz_max: number;
  presence_hz_mean: number;
  /** Every sampled receiver's last state of each mover is the mover's last move. */
  last_positions_ok: boolean;
  server_cpu_pct: number;
  verdict: "MET" | "NOT MET";
}

/** `n` users of their own, writers of the canvas (straight in the scratch database), each with a socket. */
async function openMovers(extras: ProductExtras, n: number, tag: string) {
  const movers: { ws: WebSocket; userId: string; x: number }[] = [];
  const db = new pg.Client({ connectionString: extras.dbUrl });
  await db.connect();
  try {
    for (let i = 0; i < n; i++) {
      const res = await fetch(`${extras.url}/api/v1/auth/register`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          email: `mover-${tag}-${i}-${nonce}@bench.test`,
          password: "bench-password-123",
          name: `Mover ${i}`,
        }),
      });
      if (!res.ok) throw new Error(`register mover: ${res.status} ${await res.text()}`);
      const session = (await res.json()) as { user: { user_id: string }; access_token: string };
      await db.query("INSERT INTO canvas_members (canvas_id, user_id, role) VALUES ($1, $2, 'writer')", [
        extras.canvas,
        session.user.user_id,
      ]);
      const ws = await openSocket(
        `${extras.url.replace(/^http/, "ws")}/ws/canvas/${extras.canvas}?token=${session.access_token}`,
      );
      ws.on("message", () => {}); // answers to its presence calls: not measured
      movers.push({ ws, userId: session.user.user_id, x: -1 });
    }
  } finally {
    await db.end();
  }
  return movers;
}

/**
 * One storm: each mover sends sync.presence `hz` times a second (x counts its moves), spread
 * evenly, while the writers commit `edits` ops a second (open loop, as runPhase); then every op
 * must arrive, and every sampled receiver must end on each mover's last position.
 */
async function presencePhase(
  target: Target,
  receivers: Receivers,
  movers: { ws: WebSocket; userId: string; x: number }[],
  phase: number,
  sc: PresenceScenario,
  seconds: number,
): Promise<PresenceRow> {
  const totalOps = Math.round(sc.edits * seconds);
  target.reset();
  await receivers.start(phase, totalOps + 1);
  const cpu0 = cpuSeconds(target.pid);
  const t0 = performance.now();
  let rpc = 0;
  await new Promise<void>((resolve) => {
    let k = 0;
    const moves = movers.map(() => 0);
    const tick = () => {
      const elapsed = performance.now() - t0;
      const done = elapsed >= seconds * 1000;
      while (k < totalOps && (k * 1000) / sc.edits <= elapsed) target.send(phase, k++);
      movers.forEach((m, i) => {
        while (!done && ((moves[i]! + i / movers.length) * 1000) / sc.hz <= elapsed) {
          m.x = moves[i]!++;
          m.ws.send(
            JSON.stringify({
              id: ++rpc,
              method: "mutation",
              params: { path: "sync.presence", input: { cursor: { x: m.x, y: i } } },
            }),
          );
        }
      });
      if (done && k >= totalOps) return resolve();
      setTimeout(tick, 2);
    };
    tick();
  });
  const expected = await target.settle();
  const want = expected.length * receivers.n;
  const deadline = performance.now() + 10_000;
  while (performance.now() < deadline && (await receivers.received()) < want) await sleep(50);
  // The last presence tick may be up to a second away in a big room.
  await sleep(1_500);
  const wall = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(target.pid) - cpu0;
  const s = await receivers.stop(expected);
  const ms = (q: number) => Number(quantileMs(s.hist, s.got, q).toFixed(1));
  const lastOk = s.latest.every((seen) => movers.every((m) => seen[m.userId] === m.x));
  const row: PresenceRow = {
    scenario: `${sc.movers} of ${sc.users} users at ${sc.hz}/s + ${sc.edits} edits/s`,
    receivers: receivers.n,
    movers: movers.length,
    move_hz: sc.hz,
    edits_per_s: sc.edits,
    ops: expected.length,
    op_p50_ms: ms(0.5),
    op_p95_ms: ms(0.95),
    lost: s.lost,
    dups: s.dups,
    closed: s.closed,
    presence_hz_max: Number(s.presMax.toFixed(1)),
    presence_hz_mean: Number(s.presMean.toFixed(1)),
    last_positions_ok: lastOk,
    server_cpu_pct: Math.round((cpu / wall) * 100),
    verdict: "NOT MET",
  };
  const met =
    row.op_p95_ms < P95_LIMIT_MS &&
    row.lost === 0 &&
    row.dups === 0 &&
    row.closed === 0 &&
    expected.length === totalOps &&
    row.presence_hz_max <= PRESENCE_HZ_LIMIT &&
    lastOk;
  row.verdict = met ? "MET" : "NOT MET";
  return row;
}

/** Runs every presence storm on the product, each with receivers and movers of its own. */
async function presenceStorms(
  target: Target,
  wsUrl: string,
  extras: ProductExtras,
  rows: PresenceRow[],
): Promise<void> {
  const subscribe = JSON.stringify({
    id: 1,
    method: "subscription",
    params: { path: "sync.events", input: {} },
  });
  let phase = 5000;
  for (const [n, sc] of PRESENCE.entries()) {
    const receivers = new Receivers(THREADS);
    const movers = await openMovers(extras, sc.movers, String(n));
    try {
      receivers.n = await receivers.connect(wsUrl, subscribe, sc.users - sc.movers);
      console.log(`presence storm ${n + 1}: ${receivers.n} receivers, ${movers.length} movers`);
      const row = await presencePhase(target, receivers, movers, phase++, sc, SECONDS);
      rows.push(row);
      console.log(JSON.stringify(row));
    } finally {
      for (const m of movers) m.ws.terminate();
      await receivers.close();
    }
  }
}

// ---------------------------------------------------------------------------------------------
async function main() {
  const admin = new pg.Client({ connectionString: serverDbUrl });
  await admin.connect();
  const [{ fsync }] = (await admin.query("SHOW fsync")).rows;
  const [{ synchronous_commit }] = (await admin.query("SHOW synchronous_commit")).rows;
  const [{ version }] = (await admin.query("SELECT version()")).rows;
  console.log(
    `PostgreSQL: ${version.split(",")[0]}; fsync=${fsync}; synchronous_commit=${synchronous_commit}`,
  );
  console.log(
    `${os.cpus().length} CPUs (${os.cpus()[0]?.model}); node ${process.version}; N=${N} W=${W} ` +
      `${SECONDS}s per rate; ${THREADS} receiver thread(s)\n`,
  );
  const dbName = `potentia_fanout_${Date.now()}`;
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "potentia-fanout-"));
  const rows: Row[] = [];
  const presenceRows: PresenceRow[] = [];
  let product: { target: Target; wsUrl: string; extras: ProductExtras } | null = null;
  let frameBytes = Number(process.env.BENCH_FRAME_BYTES ?? 0);
  const started = performance.now();
  const suts: Sut[] = [];
  try {
    if (ONLY !== "relay") {
      await admin.query(`CREATE DATABASE ${dbName}`);
      const u = new URL(serverDbUrl);
      u.pathname = `/${dbName}`;
      product = await productTarget(u.toString(), dataDir);
    }
    if (product && ONLY !== "presence") {
      const { target, wsUrl } = product;
      const receivers = new Receivers(THREADS);
      suts.push({ target, receivers, phase: 1, lastPass: 0, firstFail: 0 });
      const t = performance.now();
      const subscribe = JSON.stringify({
        id: 1,
        method: "subscription",
        params: { path: "sync.events", input: {} },
      });
      receivers.n = await receivers.connect(wsUrl, subscribe, N);
      console.log(
        `product: ${receivers.n}/${N} subscribed in ${((performance.now() - t) / 1000).toFixed(1)} s`,
      );
      // Warm-up (JIT, pools, TCP windows), not recorded; it also gives the frame size.
      const warm = await runPhase(target, receivers, suts[0]!.phase++, 20, 2);
      frameBytes ||= warm.frame_bytes;
    }
    if (ONLY !== "product" && ONLY !== "presence") {
      const { target, wsUrl } = await relayTarget(frameBytes || 700);
      const receivers = new Receivers(THREADS);
      suts.push({ target, receivers, phase: 1000, lastPass: 0, firstFail: 0 });
      receivers.n = await receivers.connect(wsUrl, null, N);
      console.log(`relay: ${receivers.n}/${N} connected; ${frameBytes || 700}-byte messages`);
      await runPhase(target, receivers, suts.at(-1)!.phase++, 20, 2);
    }
    await sweep(suts, rows);
    if (product && PRESENCE.length > 0 && (ONLY === undefined || ONLY === "presence")) {
      // The sweep's subscribers would receive the storms' presence too: they leave first.
      for (const sut of suts) await sut.receivers.close();
      await presenceStorms(product.target, product.wsUrl, product.extras, presenceRows);
    }
  } finally {
    for (const sut of suts) {
      await sut.receivers.close();
      await sut.target.close();
    }
    if (product && !suts.some((s) => s.target === product?.target)) await product.target.close();
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.end();
    await rm(dataDir, { recursive: true, force: true });
  }

  console.log();
  console.table(rows);
  const at = (t: string, rate: number) => rows.find((r) => r.target === t && r.rate === rate);
  const maxRate = (t: string) =>
    Math.max(0, ...rows.filter((r) => r.target === t && passes(r)).map((r) => r.rate));
  const p20 = at("product", 20);
  const r20 = at("relay", 20);
  const target1 =
    p20 && r20
      ? {
          product_p95_ms: p20.p95_ms,
          relay_p95_ms: r20.p95_ms,
          ratio: Number((p20.p95_ms / r20.p95_ms).toFixed(2)),
          lost: p20.lost + p20.dups,
          met: p20.p95_ms <= 2 * r20.p95_ms && p20.lost === 0 && p20.dups === 0,
        }
      : null;
  const pMax = maxRate("product");
  const rMax = maxRate("relay");
  const target2 = rMax
    ? {
        product_max_rate: pMax,
        relay_max_rate: rMax,
        ratio: Number((pMax / rMax).toFixed(2)),
        met: pMax >= 0.8 * rMax,
      }
    : null;
  if (target1)
    console.log(
      `\nN=${N}, R=20: product p95 ${target1.product_p95_ms} ms vs relay ${target1.relay_p95_ms} ms = ${target1.ratio}x ` +
        `(target ≤ 2x, zero loss; lost+dups ${target1.lost}): ${target1.met ? "MET" : "NOT MET"}`,
    );
  if (target2)
    console.log(
      `N=${N}: highest R with p95 < ${P95_LIMIT_MS} ms: product ${pMax}/s vs relay ${rMax}/s = ${target2.ratio}x ` +
        `(target ≥ 0.8x): ${target2.met ? "MET" : "NOT MET"}`,
    );
  if (presenceRows.length > 0) {
    console.log("\nPresence storms (RT-10):");
    console.table(presenceRows);
    for (const r of presenceRows)
      console.log(
        `${r.scenario}: op p95 ${r.op_p95_ms} ms (< ${P95_LIMIT_MS}), lost+dups ${r.lost + r.dups}, ` +
          `≤ ${r.presence_hz_max} presence frames/s per receiver (≤ ${PRESENCE_HZ_LIMIT}), ` +
          `last positions ${r.last_positions_ok ? "right" : "WRONG"}: ${r.verdict}`,
      );
  }
  console.log(`total ${((performance.now() - started) / 1000).toFixed(0)} s`);
  const out = {
    when: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      model: os.cpus()[0]?.model,
      mem_gb: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
    },
    postgres: { version, fsync, synchronous_commit },
    settings: {
      n: N,
      writers: W,
      seconds_per_rate: SECONDS,
      rates: RATES,
      receiver_threads: THREADS,
      redis: !!process.env.BENCH_REDIS,
      presence: PRESENCE,
    },
    rows,
    presence: presenceRows,
    targets: { r20_p95: target1, max_rate: target2 },
  };
  const dir = path.resolve("bench-results");
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, "fanout.json"), `${JSON.stringify(out, null, 2)}\n`);
  console.log(`wrote ${path.join(dir, "fanout.json")}`);
}

await main();
