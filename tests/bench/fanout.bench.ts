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
 * Targets (issue 10), each measured BENCH_RUNS times (median and spread reported, with a
 * verdict): N=100, R=100 — commit acknowledgement p95 ≤ 5 ms and op p95 ≤ 2× the relay's;
 * N=1000, R=20 — op p95 ≤ 1.25× the relay's, and typing into 20,000-character blocks within 10%
 * of the small blocks' p95; zero loss everywhere. BENCH_SWEEP=1 adds the rate sweep at N
 * (highest R with p95 < 100 ms, product vs relay).
 *
 * Presence storms (RT-10, issue 10): after the targets, `users` on the canvas of whom `movers` move
 * their cursor `hz` times a second (each mover its own user and socket, sending sync.presence)
 * while the writers commit `edits` ops a second; the other users are the receivers. Reported:
 * op p50/p95, lost/duplicated ops, presence frames per receiver per second (max and mean),
 * whether every receiver sampled ended on each mover's last position, and a verdict (op p95 <
 * 100 ms, nothing lost, ≤ 20 presence frames/s per receiver, last positions right).
 * BENCH_PRESENCE ("300:50:20:10,1000:100:20:20" = users:movers:hz:edits; "" skips them).
 *
 * Settings (env): BENCH_N (1000), BENCH_WRITERS (20), BENCH_SECONDS per phase (5), BENCH_RUNS (3),
 * BENCH_SWEEP (1: add the sweep),
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
/** The big-block scenario's text size (RT-9, RT-11). */
const BIG_CHARS = 20_000;
/** Runs of each target scenario (their spread is reported, not the best one). */
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 3));
/** BENCH_SWEEP=1: also sweep the rates at N (the highest rate with p95 < 100 ms, product vs relay). */
const SWEEP = process.env.BENCH_SWEEP === "1";
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
  const p = parseInt(s.slice(9, 13), 16);
  if (!phase || p !== phase.id) { late++; return; }
  bytes += data.length; frames++;
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
    late = 0; bytes = 0; frames = 0;
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
  /** The product's writers edit small blocks (the default) or BIG_CHARS-character ones. */
  blocks?(mode: "small" | "big"): Promise<void>;
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

  // The big-block scenario's blocks: BIG_CHARS characters each, edited one character at a time.
  const big: { block: string; version: number }[] = [];
  const bigBlocks = async () => {
    if (big.length > 0) return;
    for (let w = 0; w < W; w++) {
      const block = crypto.randomUUID();
      const r = await mutate(w, {
        client_op_id: crypto.randomUUID(),
        action: "create",
        block_id: block,
        type: "text",
        content: "x".repeat(BIG_CHARS),
      });
      const res = r.result?.data?.results?.[0];
      if (res?.status !== "success") throw new Error(`create big block: ${JSON.stringify(r).slice(0, 300)}`);
      big.push({ block, version: res.version });
    }
  };

  let inflight: Promise<void>[] = [];
  let committed: number[] = [];
  let failed = 0;
  let acks: number[] = [];
  let mode: "small" | "big" = "small";
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
    async blocks(next) {
      if (next === "big") await bigBlocks();
      mode = next;
    },
    send(phase, k) {
      const w = k % W;
      const writer = writers[w]!;
      const sentUs = nowUs();
      let op: Record<string, unknown>;
      let onSuccess: (res: { version: number; block: { content: string } | null }) => void;
      if (mode === "big") {
        // A one-character edit in the middle of a 20,000-character block: in, then out again,
        // so the block keeps its size (RT-9: the event is as small as in a tiny block).
        const b = big[w]!;
        op = {
          client_op_id: opId(phase, k, sentUs),
          action: "update",
          block_id: b.block,
          base_version: b.version,
          text_op: Math.floor(k / W) % 2 === 0 ? [BIG_CHARS / 2, "y"] : [BIG_CHARS / 2, { d: 1 }],
        };
        onSuccess = (res) => {
          if (res.version > b.version) b.version = res.version;
        };
      } else {
        // Replace the block's text with a fixed-size marker: frames keep one size all run long.
        const marker = `edit ${String(k).padStart(8, "0")}`;
        op = {
          client_op_id: opId(phase, k, sentUs),
          action: "update",
          block_id: writer.block,
          base_version: writer.version,
          text_op: writer.len > 0 ? [{ d: writer.len }, marker] : [marker],
        };
        onSuccess = (res) => {
          if (res.version > writer.version) {
            writer.version = res.version;
            writer.len = [...(res.block?.content ?? "")].length;
          }
        };
      }
      inflight.push(
        mutate(w, op).then((r) => {
          acks.push((nowUs() - sentUs) / 1000);
          const res = r.result?.data?.results?.[0];
          if (res?.status === "success") {
            committed.push(k);
            onSuccess(res);
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
/** One run of a target scenario: the phases it compares, measured one after the other. */
interface TargetRun {
  run: number;
  product: Row;
  relay?: Row;
  big?: Row;
}

/** Median and spread (min–max) of a series of runs. */
function spread(values: number[]): { median: number; min: number; max: number } {
  const v = [...values].sort((x, y) => x - y);
  const mid = v.length % 2 ? v[(v.length - 1) / 2]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
  const r = (x: number) => Number(x.toFixed(2));
  return { median: r(mid), min: r(v[0]!), max: r(v[v.length - 1]!) };
}
const fmt = (s: { median: number; min: number; max: number }) => `${s.median} (${s.min}–${s.max})`;

interface Verdict {
  target: string;
  measured: string;
  met: boolean;
}

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
    `${os.cpus().length} CPUs (${os.cpus()[0]?.model}); node ${process.version}; W=${W} ` +
      `${SECONDS}s per phase; ${RUNS} runs per target; ${THREADS} receiver thread(s)\n`,
  );
  const dbName = `potentia_fanout_${Date.now()}`;
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "potentia-fanout-"));
  const rows: Row[] = [];
  const presenceRows: PresenceRow[] = [];
  const small100: TargetRun[] = [];
  const large: TargetRun[] = [];
  let product: { target: Target; wsUrl: string; extras: ProductExtras } | null = null;
  let relay: { target: Target; wsUrl: string } | null = null;
  let frameBytes = Number(process.env.BENCH_FRAME_BYTES ?? 0);
  const started = performance.now();
  const receiverSets: Receivers[] = [];
  let phase = 1;
  const subscribe = JSON.stringify({
    id: 1,
    method: "subscription",
    params: { path: "sync.events", input: {} },
  });
  const measure = async (target: Target, receivers: Receivers, rate: number, label: string) => {
    const row = { ...(await runPhase(target, receivers, phase++, rate, SECONDS)), target: label };
    rows.push(row);
    console.log(JSON.stringify(row));
    return row;
  };
  /** N receivers on the product's canvas and on the relay. */
  const connect = async (n: number) => {
    const p = new Receivers(THREADS);
    receiverSets.push(p);
    p.n = await p.connect(product!.wsUrl, subscribe, n);
    let r: Receivers | null = null;
    if (relay) {
      r = new Receivers(THREADS);
      receiverSets.push(r);
      r.n = await r.connect(relay.wsUrl, null, n);
    }
    console.log(`N=${n}: product ${p.n}/${n} subscribed${r ? `, relay ${r.n}/${n} connected` : ""}`);
    return { p, r };
  };
  try {
    await admin.query(`CREATE DATABASE ${dbName}`);
    const u = new URL(serverDbUrl);
    u.pathname = `/${dbName}`;
    product = await productTarget(u.toString(), dataDir);
    if (ONLY !== "presence") {
      // Warm-up (JIT, pools, TCP windows), not recorded; it also gives the product's frame size.
      const warmUp = new Receivers(THREADS);
      receiverSets.push(warmUp);
      warmUp.n = await warmUp.connect(product.wsUrl, subscribe, 10);
      frameBytes ||= (await runPhase(product.target, warmUp, phase++, 20, 2)).frame_bytes;
      await warmUp.close();
      if (ONLY !== "product") {
        relay = await relayTarget(frameBytes || 700);
        console.log(`relay: ${frameBytes || 700}-byte messages (the product's frame size)`);
      }

      // Target 1 (RT-11): N=100, R=100 — commit acknowledgement and op latency against the relay.
      const a = await connect(100);
      for (let run = 1; run <= RUNS; run++) {
        const p = await measure(product.target, a.p, 100, "product");
        const r = a.r && relay ? await measure(relay.target, a.r, 100, "relay") : undefined;
        small100.push({ run, product: p, ...(r ? { relay: r } : {}) });
      }
      await a.p.close();
      await a.r?.close();

      // Targets 2 and 3: N=1000, R=20 — against the relay, and typing into 20,000-character blocks
      // against the small blocks of the same run.
      const b = await connect(N);
      await product.target.blocks?.("big");
      await product.target.blocks?.("small");
      for (let run = 1; run <= RUNS; run++) {
        const p = await measure(product.target, b.p, 20, "product");
        const r = b.r && relay ? await measure(relay.target, b.r, 20, "relay") : undefined;
        await product.target.blocks?.("big");
        const g = await measure(product.target, b.p, 20, `product ${BIG_CHARS}-char blocks`);
        await product.target.blocks?.("small");
        large.push({ run, product: p, ...(r ? { relay: r } : {}), big: g });
      }
      if (SWEEP) {
        const suts: Sut[] = [
          { target: product.target, receivers: b.p, phase: phase, lastPass: 0, firstFail: 0 },
        ];
        if (relay && b.r)
          suts.push({ target: relay.target, receivers: b.r, phase: phase + 1000, lastPass: 0, firstFail: 0 });
        await sweep(suts, rows);
      }
      await b.p.close();
      await b.r?.close();
    }
    if (PRESENCE.length > 0 && (ONLY === undefined || ONLY === "presence")) {
      await presenceStorms(product.target, product.wsUrl, product.extras, presenceRows);
    }
  } finally {
    for (const set of receiverSets) await set.close();
    await product?.target.close();
    await relay?.target.close();
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.end();
    await rm(dataDir, { recursive: true, force: true });
  }

  console.log();
  console.table(
    rows.map(
      ({
        target,
        n,
        rate,
        p50_ms,
        p95_ms,
        p99_ms,
        lost,
        dups,
        ack_p50_ms,
        ack_p95_ms,
        server_us_per_delivery,
        frame_bytes,
        load1,
      }) => ({
        target,
        n,
        rate,
        p50_ms,
        p95_ms,
        p99_ms,
        lost: lost + dups,
        ack_p50_ms,
        ack_p95_ms,
        us_per_delivery: server_us_per_delivery,
        frame_bytes,
        load1,
      }),
    ),
  );
  const verdicts: Verdict[] = [];
  const lossFree = (runs: TargetRun[]) =>
    runs.every((r) =>
      [r.product, r.relay, r.big].every((x) => !x || (x.lost === 0 && x.dups === 0 && x.closed === 0)),
    );
  if (small100.length > 0) {
    const ack = spread(small100.map((r) => r.product.ack_p95_ms ?? Number.POSITIVE_INFINITY));
    verdicts.push({
      target: "N=100, R=100: commit acknowledgement p95 ≤ 5 ms",
      measured: `${fmt(ack)} ms (p50 ${fmt(spread(small100.map((r) => r.product.ack_p50_ms ?? 0)))} ms)`,
      met: ack.median <= 5,
    });
    if (small100.every((r) => r.relay)) {
      const ratio = spread(small100.map((r) => r.product.p95_ms / r.relay!.p95_ms));
      verdicts.push({
        target: "N=100, R=100: op p95 ≤ 2× the relay's",
        measured: `${fmt(ratio)}× (product ${fmt(spread(small100.map((r) => r.product.p95_ms)))} ms, relay ${fmt(spread(small100.map((r) => r.relay!.p95_ms)))} ms)`,
        met: ratio.median <= 2,
      });
    }
  }
  if (large.length > 0) {
    if (large.every((r) => r.relay)) {
      const ratio = spread(large.map((r) => r.product.p95_ms / r.relay!.p95_ms));
      verdicts.push({
        target: `N=${N}, R=20: op p95 ≤ 1.25× the relay's`,
        measured: `${fmt(ratio)}× (product ${fmt(spread(large.map((r) => r.product.p95_ms)))} ms, relay ${fmt(spread(large.map((r) => r.relay!.p95_ms)))} ms)`,
        met: ratio.median <= 1.25,
      });
    }
    const bigRatio = spread(large.map((r) => r.big!.p95_ms / r.product.p95_ms));
    verdicts.push({
      target: `N=${N}, R=20: typing into ${BIG_CHARS}-char blocks within 10% of small blocks (p95)`,
      measured: `${fmt(bigRatio)}× (${fmt(spread(large.map((r) => r.big!.p95_ms)))} ms vs ${fmt(spread(large.map((r) => r.product.p95_ms)))} ms; frame ${large[0]!.big!.frame_bytes} vs ${large[0]!.product.frame_bytes} bytes)`,
      met: bigRatio.median <= 1.1,
    });
  }
  if (small100.length + large.length > 0) {
    verdicts.push({
      target: "zero loss (every receiver every committed op once)",
      measured: lossFree([...small100, ...large]) ? "0 lost, 0 duplicated, 0 closed" : "LOSS",
      met: lossFree([...small100, ...large]),
    });
    const us = (runs: TargetRun[], k: "product" | "relay" | "big") =>
      runs.every((r) => r[k]) ? fmt(spread(runs.map((r) => r[k]!.server_us_per_delivery))) : "—";
    console.log(
      `\nserver µs per delivery: N=100 R=100 product ${us(small100, "product")} / relay ${us(small100, "relay")}; ` +
        `N=${N} R=20 product ${us(large, "product")} / relay ${us(large, "relay")} / ${BIG_CHARS}-char ${us(large, "big")}`,
    );
  }
  if (presenceRows.length > 0) {
    console.log("\nPresence storms (RT-10):");
    console.table(presenceRows);
    for (const r of presenceRows)
      verdicts.push({
        target: `${r.scenario}: op p95 < ${P95_LIMIT_MS} ms, nothing lost, ≤ ${PRESENCE_HZ_LIMIT} presence frames/s per receiver`,
        measured: `op p95 ${r.op_p95_ms} ms, lost+dups ${r.lost + r.dups}, ≤ ${r.presence_hz_max} frames/s, last positions ${r.last_positions_ok ? "right" : "WRONG"}`,
        met: r.verdict === "MET",
      });
  }
  console.log("\nTargets (issue 10; median of the runs, spread in brackets):");
  for (const v of verdicts) console.log(`  ${v.met ? "MET    " : "NOT MET"}  ${v.target}: ${v.measured}`);
  console.log(`total ${((performance.now() - started) / 1000).toFixed(0)} s`);
  const out = {
    when: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      model: os.cpus()[0]?.model,
      mem_gb: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
      load1: os.loadavg()[0],
    },
    postgres: { version, fsync, synchronous_commit },
    settings: {
      n: N,
      writers: W,
      seconds_per_phase: SECONDS,
      runs: RUNS,
      receiver_threads: THREADS,
      redis: !!process.env.BENCH_REDIS,
      presence: PRESENCE,
      big_chars: BIG_CHARS,
      frame_bytes: frameBytes,
    },
    rows,
    runs: { n100_r100: small100, n1000_r20: large },
    presence: presenceRows,
    verdicts,
  };
  const dir = path.resolve("bench-results");
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, "fanout.json"), `${JSON.stringify(out, null, 2)}\n`);
  console.log(`wrote ${path.join(dir, "fanout.json")}`);
}

await main();
