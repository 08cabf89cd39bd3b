import type { TextOp } from "ot-text-unicode";
import type { Database, SqlClient } from "../db/sql";
import { DomainError } from "../domain/errors";
import { type HistoryEntry, rebaseTextOp } from "../domain/textRebase";
import type { RateRule } from "../env";
import { type CanvasBusMessage, canvasChannel } from "../protocol/channels";
import { MAX_CONTENT_CHARS, type Op, type OpEvent, type OpResult, opSchema } from "../protocol/ops";

/** What canvasSync needs of the bus port: publish after commit. */
export interface Publisher {
  publish(channel: string, message: string): Promise<void>;
}

export interface MutateRequest {
  canvasId: string;
  userId: string;
  ops: readonly unknown[];
  ip?: string | null;
  userAgent?: string | null;
  /**
   * API-1 inside the commit (RT-11): the caller checked the token's scopes only; the group's
   * transaction checks under the canvas lock that the user is a writer or owner, and the request
   * is refused (`forbidden`, or `canvas_not_found` for a non-member) otherwise.
   */
  checkWrite?: boolean;
}

export interface MutateResponse {
  results: OpResult[];
  /** MUT-7: the request was over the per-user limit; its ops failed `rate_limited`. */
  rateLimited: boolean;
  /** server_seq of the canvas's last applied op after this request committed. */
  lastSeq: number | null;
}

export interface CanvasSyncOptions {
  db: Database;
  bus: Publisher;
  /** MUT-7 limit per user (RATE_LIMITS.RPC). */
  rpcRate: RateRule;
  /** Upper bound of ops in one group commit. */
  maxBatchOps?: number;
  onError?: (error: unknown, context: string) => void;
  /** Every committed group: its op results and the transaction's wall time (OPS-1 metrics). */
  onCommitted?: (results: readonly OpResult[], seconds: number) => void;
}

interface Pending {
  request: MutateRequest;
  valid: { index: number; op: Op }[];
  results: (OpResult | null)[];
  resolve: (response: MutateResponse) => void;
  reject: (error: unknown) => void;
}

interface SqlRequest {
  user_id: string;
  ip: string | null;
  user_agent: string | null;
  rate: RateRule | null;
  rate_limited?: boolean;
  check_write?: boolean;
  ops: (Op & { text_rebase?: unknown })[];
}

interface BatchOut {
  results: OpResult[][];
  events: OpEvent[];
  rate_limited: boolean[];
  stopped_at?: [number, number];
}

interface TextContext {
  block_id: string;
  exists: boolean;
  deleted?: boolean;
  version?: number;
  content?: string;
  base_content?: string | null;
  history?: HistoryEntry[];
}

/**
 * The last committed (version, content) of recently written blocks, from this process's own
 * committed events. A text op against exactly that version needs no context from the database
 * (nothing to transform over, its base content is the content); the database still checks the
 * version under the row lock (a stale entry only costs a `rebase_needed` round and a refetch).
 */
class TextStateCache {
  private readonly entries = new Map<string, { version: number; content: string }>();
  private chars = 0;

  constructor(
    private readonly maxEntries = 4096,
    private readonly maxChars = 8_000_000,
  ) {}

  get(canvasId: string, blockId: string) {
    return this.entries.get(`${canvasId}/${blockId}`);
  }

  delete(canvasId: string, blockId: string): void {
    const key = `${canvasId}/${blockId}`;
    const old = this.entries.get(key);
    if (!old) return;
    this.chars -= old.content.length;
    this.entries.delete(key);
  }

  /**
   * Applies a group's committed events, in server_seq order (RT-9: events are deltas, so the
   * content comes from the op's result; an event without one — a re-key, a cascaded delete —
   * keeps the content when it does not change it).
   */
  apply(canvasId: string, events: readonly OpEvent[], results: readonly OpResult[]): void {
    const after = new Map<string, { version: number; content: string }>();
    for (const r of results) {
      if (r.status === "success" && r.block && r.client_op_id)
        after.set(`${r.client_op_id}/${r.block_id}`, { version: r.block.version, content: r.block.content });
    }
    for (const e of events) {
      const old = this.get(canvasId, e.block_id);
      this.delete(canvasId, e.block_id);
      if (e.action === "delete") continue;
      let next = after.get(`${e.client_op_id}/${e.block_id}`);
      if (next?.version !== e.version) {
        const keepsContent = e.text_op === undefined && e.set?.content === undefined;
        next =
          old && keepsContent && old.version === e.version - 1
            ? { version: e.version, content: old.content }
            : undefined;
      }
      if (!next) continue;
      this.entries.set(`${canvasId}/${e.block_id}`, next);
      this.chars += next.content.length;
    }
    for (const [key, v] of this.entries) {
      if (this.entries.size <= this.maxEntries && this.chars <= this.maxChars) break;
      this.entries.delete(key);
      this.chars -= v.content.length;
    }
  }
}

/**
 * An op the database refused on its own merits (potentia_apply_op's RAISE … HINT): in fast mode it
 * aborts the group, and the savepoint run that follows logs it as that op's `failed` result. The
 * client's mistake, not the server's: nothing to log as an error.
 */
function isOpRefusal(error: unknown): boolean {
  const e = error as { code?: string; hint?: string };
  return e?.code === "P0001" && ["invalid_op", "invalid_position", "stale_base"].includes(e.hint ?? "");
}

/** The database's "no such canvas" (potentia_lock_canvas) as a domain error; null for anything else. */
function toDomainError(error: unknown): DomainError | null {
  if (error instanceof DomainError) return error;
  const e = error as { code?: string; hint?: string };
  if (e?.code === "P0002" && e.hint === "canvas_not_found") return new DomainError("canvas_not_found");
  return null;
}

/**
 * A request the group's write check refused (potentia_check_writers): API-1's answers — 403 for a
 * member without the right, 404 for anyone else. Its group reruns request by request.
 */
function writeRefusal(error: unknown): DomainError | null {
  const e = error as { code?: string; hint?: string };
  if (e?.code !== "P0001") return null;
  if (e.hint === "forbidden") return new DomainError("forbidden", "you may not write to this canvas");
  if (e.hint === "not_member") return new DomainError("canvas_not_found");
  return null;
}

function invalidResult(raw: unknown, message: string): OpResult {
  const o = (raw && typeof raw === "object" ? raw : {}) as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === "string" ? v : null);
  return {
    client_op_id: str(o.client_op_id),
    block_id: str(o.block_id),
    status: "failed",
    server_seq: null,
    version: null,
    block: null,
    error: { code: "invalid_op", message },
  };
}

/**
 * The mutation service (SPEC §2): validates ops, group-commits the requests of one canvas in one
 * transaction through `rpc_mutate_batch` / `rpc_upsert_block_atomic` (many ops, one WAL flush),
 * acknowledges after COMMIT (MUT-1) and then publishes the committed events in server_seq order.
 */
export class CanvasSync {
  private readonly queues = new Map<string, Pending[]>();
  private readonly running = new Map<string, Promise<void>>();
  private readonly maxBatchOps: number;
  private readonly textState = new TextStateCache();
  private timeoutSetting: Promise<string | null> | undefined;
  private closed = false;

  constructor(private readonly opts: CanvasSyncOptions) {
    this.maxBatchOps = opts.maxBatchOps ?? 400;
  }

  /** Validates and commits one mutate request; resolves after its transaction committed. */
  mutate(request: MutateRequest): Promise<MutateResponse> {
    if (this.closed) return Promise.reject(new DomainError("unavailable", "shutting down"));
    const results: (OpResult | null)[] = [];
    const valid: Pending["valid"] = [];
    request.ops.forEach((raw, index) => {
      const parsed = opSchema.safeParse(raw);
      if (parsed.success) {
        valid.push({ index, op: parsed.data });
        results.push(null);
      } else {
        const issue = parsed.error.issues[0]!;
        const where = issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
        results.push(invalidResult(raw, `${where}${issue.message}`));
      }
    });
    if (valid.length === 0) {
      return Promise.resolve({ results: results as OpResult[], rateLimited: false, lastSeq: null });
    }
    return new Promise<MutateResponse>((resolve, reject) => {
      const queue = this.queues.get(request.canvasId) ?? [];
      queue.push({ request, valid, results, resolve, reject });
      this.queues.set(request.canvasId, queue);
      if (!this.running.has(request.canvasId)) this.drain(request.canvasId);
    });
  }

  /** Waits for every queued request to finish, then refuses new ones. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.running.values()]);
  }

  private drain(canvasId: string): void {
    const run = (async () => {
      for (;;) {
        const queue = this.queues.get(canvasId);
        if (!queue || queue.length === 0) break;
        let ops = 0;
        let take = 0;
        while (take < queue.length && (take === 0 || ops + queue[take]!.valid.length <= this.maxBatchOps)) {
          ops += queue[take]!.valid.length;
          take += 1;
        }
        const batch = queue.splice(0, take);
        await this.commitGroup(canvasId, batch);
      }
      this.queues.delete(canvasId);
      this.running.delete(canvasId);
    })();
    this.running.set(canvasId, run);
  }

  /**
   * Commits a group in "fast" mode (no per-op savepoints). Should anything in it raise, the
   * transaction rolled back as a whole and the group runs again with a savepoint per op, where
   * the failing op is logged as `failed` and the others apply (MUT-2).
   */
  private async commitGroup(canvasId: string, batch: Pending[], fast = true): Promise<void> {
    try {
      const started = performance.now();
      const out = await this.runGroup(canvasId, batch, fast);
      this.opts.onCommitted?.(out.results.flat(), (performance.now() - started) / 1000);
      this.textState.apply(canvasId, out.events, out.results.flat());
      this.settle(batch, out);
      await this.publish(canvasId, out.events);
    } catch (error) {
      const refused = writeRefusal(error);
      if (refused) {
        if (batch.length === 1) batch[0]!.reject(refused);
        else for (const pending of batch) await this.commitGroup(canvasId, [pending], fast);
        return;
      }
      const mapped = toDomainError(error);
      if (!mapped && fast) {
        if (!isOpRefusal(error))
          this.opts.onError?.(error, "group commit failed in fast mode; retrying with savepoints");
        await this.commitGroup(canvasId, batch, false);
        return;
      }
      if (!mapped && batch.length > 1) {
        // One request must not sink the others of its group: retry each on its own.
        for (const pending of batch) await this.commitGroup(canvasId, [pending], false);
        return;
      }
      for (const pending of batch) pending.reject(mapped ?? error);
    }
  }

  private settle(batch: Pending[], out: BatchOut): void {
    const lastSeq = out.events.length > 0 ? out.events[out.events.length - 1]!.server_seq : null;
    batch.forEach((pending, ri) => {
      const sqlResults = out.results[ri] ?? [];
      pending.valid.forEach(({ index }, k) => {
        pending.results[index] = sqlResults[k] ?? null;
      });
      pending.resolve({
        results: pending.results as OpResult[],
        rateLimited: out.rate_limited[ri] ?? false,
        lastSeq,
      });
    });
  }

  private async publish(canvasId: string, events: OpEvent[]): Promise<void> {
    if (events.length === 0) return;
    const message: CanvasBusMessage = { canvas_id: canvasId, events };
    try {
      await this.opts.bus.publish(canvasChannel(canvasId), JSON.stringify(message));
    } catch (error) {
      // Committed is committed: subscribers heal a missed publish from the op log (RT-4).
      this.opts.onError?.(error, "publish");
    }
  }

  private sqlRequests(batch: Pending[]): SqlRequest[] {
    return batch.map((p) => ({
      user_id: p.request.userId,
      ip: p.request.ip ?? null,
      user_agent: p.request.userAgent ?? null,
      rate: this.opts.rpcRate,
      ...(p.request.checkWrite ? { check_write: true } : {}),
      ops: p.valid.map((v) => v.op),
    }));
  }

  /**
   * The statement timeout the database port's transactions run with (MUT-2), read once inside
   * one of them; null when it cannot be known (then every group takes the transaction path).
   */
  private statementTimeout(): Promise<string | null> {
    this.timeoutSetting ??= this.opts.db
      .transaction((tx) => tx.query<{ t: string }>("SELECT current_setting('statement_timeout') AS t"))
      .then(([row]) => (row && /^[0-9]+(us|ms|s|min|h|d)?$/.test(row.t) ? row.t : null))
      .catch(() => null);
    return this.timeoutSetting;
  }

  private async runGroup(canvasId: string, batch: Pending[], fast: boolean): Promise<BatchOut> {
    if (fast && this.opts.db.kind === "postgres") {
      const out = await this.runOneStatement(canvasId, batch);
      if (out) return out;
    }
    return this.runTransaction(canvasId, batch, fast, !fast || this.opts.db.kind !== "postgres");
  }

  /**
   * The common group in one round trip instead of three (BEGIN, call, COMMIT): when no text op
   * needs context from the database, the whole group is one simple-protocol query string —
   * `SET LOCAL statement_timeout` (the port's value) and the call — which PostgreSQL runs as one
   * implicit transaction, committed (durably) before it answers. Should a text op's rebase turn
   * out stale, the call raises instead of stopping (nothing commits) and the group takes the
   * transaction path. Returns null when the group is not for this path.
   */
  private async runOneStatement(canvasId: string, batch: Pending[]): Promise<BatchOut | null> {
    const timeout = await this.statementTimeout();
    if (timeout === null) return null;
    const requests = this.sqlRequests(batch);
    if (!this.prepareTextOpsFromCache(canvasId, requests)) return null;
    // E'' literals read the same whatever standard_conforming_strings says.
    const literal = (text: string) => `E'${text.replace(/\\/g, "\\\\").replace(/'/g, "''")}'`;
    try {
      const [row] = await this.opts.db.query<{ out: BatchOut }>(
        `SET LOCAL statement_timeout = '${timeout}'; ` +
          `SELECT rpc_mutate_batch(${literal(canvasId)}::uuid, ${literal(JSON.stringify(requests))}::jsonb, true, true) AS out`,
      );
      return row!.out;
    } catch (error) {
      const e = error as { code?: string; hint?: string };
      if (e?.code === "P0001" && e.hint === "rebase_needed") return null;
      throw error;
    }
  }

  /** `useCache`: whether text ops may first take their context from the cache (see runOneStatement). */
  private runTransaction(
    canvasId: string,
    batch: Pending[],
    fast: boolean,
    useCache: boolean,
  ): Promise<BatchOut> {
    // The statement timeout (MUT-2) is the database port's: SET LOCAL with BEGIN.
    return this.opts.db.transaction(async (tx) => {
      let requests = this.sqlRequests(batch);
      // Index of the first not-yet-processed request of `batch` in `requests`.
      let offset = 0;
      const total: BatchOut = { results: batch.map(() => []), events: [], rate_limited: [] };
      // The first round may take text state from the cache; after a stale rebase, from the database.
      let cached = useCache;
      for (;;) {
        await this.prepareTextOps(tx, canvasId, requests, cached);
        cached = false;
        const [row] = await tx.query<{ out: BatchOut }>("SELECT rpc_mutate_batch($1, $2::jsonb, $3) AS out", [
          canvasId,
          JSON.stringify(requests),
          fast,
        ]);
        const out = row!.out;
        out.results.forEach((rs, i) => {
          total.results[offset + i]!.push(...rs);
        });
        out.rate_limited.forEach((flag, i) => {
          total.rate_limited[offset + i] = flag;
        });
        total.events.push(...out.events);
        if (!out.stopped_at) return total;
        // A text op's rebase went stale inside this group: fetch fresh context and go on from it.
        // Every request of the group was counted against MUT-7 already (rate_limited holds all
        // of their verdicts): the rest goes on with those verdicts, counted once.
        const [ri, oi] = out.stopped_at;
        requests = requests.slice(ri).map((r, i) => ({
          ...r,
          ops: i === 0 ? r.ops.slice(oi) : r.ops,
          rate: null,
          rate_limited: out.rate_limited[ri + i] ?? false,
        }));
        offset += ri;
      }
    });
  }

  /** MUT-5: transforms each text op over what was committed since its base (chained in order). */
  private async prepareTextOps(
    tx: SqlClient,
    canvasId: string,
    requests: SqlRequest[],
    useCache: boolean,
  ): Promise<void> {
    const items = requests.flatMap((r) =>
      r.ops
        .filter((op) => op.text_op)
        .map((op) => ({ block_id: op.block_id, base_version: op.base_version })),
    );
    if (items.length === 0) return;
    if (useCache && this.prepareTextOpsFromCache(canvasId, requests)) return;
    const [row] = await tx.query<{ ctx: TextContext[] }>("SELECT rpc_text_context($1, $2::jsonb) AS ctx", [
      canvasId,
      JSON.stringify(items),
    ]);
    this.rebaseAll(requests, row!.ctx);
  }

  /**
   * When every text op is against the last version this process committed for its block, the
   * context the database would return is { version, content, base_content: content,
   * history: [] }: rebases from that (no round trip) and returns true; otherwise changes nothing.
   */
  private prepareTextOpsFromCache(canvasId: string, requests: SqlRequest[]): boolean {
    const contexts: TextContext[] = [];
    for (const request of requests) {
      for (const op of request.ops) {
        if (!op.text_op) continue;
        const hit = this.textState.get(canvasId, op.block_id);
        if (!hit || hit.version !== op.base_version) return false;
        contexts.push({
          block_id: op.block_id,
          exists: true,
          deleted: false,
          version: hit.version,
          content: hit.content,
          base_content: hit.content,
          history: [],
        });
      }
    }
    if (contexts.length > 0) this.rebaseAll(requests, contexts);
    return true;
  }

  private rebaseAll(requests: SqlRequest[], contexts: TextContext[]): void {
    const byBlock = new Map<string, { version: number; content: string; history: HistoryEntry[] }>();
    let k = 0;
    for (const request of requests) {
      request.ops = request.ops.map((op) => {
        if (!op.text_op) return op;
        const ctx = contexts[k++]!;
        if (!ctx.exists || ctx.deleted) return op; // the database reports not_found / deleted
        let state = byBlock.get(op.block_id);
        if (!state) {
          state = { version: ctx.version!, content: ctx.content!, history: [...ctx.history!] };
          byBlock.set(op.block_id, state);
        }
        const outcome = rebaseTextOp({
          op: op.text_op as TextOp,
          baseVersion: op.base_version!,
          version: state.version,
          content: state.content,
          baseContent: ctx.base_content ?? null,
          history: [...ctx.history!, ...state.history.filter((h) => h.version > (ctx.version ?? 0))],
          maxLength: MAX_CONTENT_CHARS,
        });
        if (outcome.kind === "applied") {
          state.version += 1;
          state.content = outcome.content;
          state.history.push({ version: state.version, text_op: outcome.textOp, content_set: false });
          return {
            ...op,
            // The database applies text_op to the content itself (potentia_apply_text_op): the
            // new text does not travel with every keystroke (RT-11), nor does `mine` (conflicts only).
            text_rebase: { version: outcome.version, text_op: outcome.textOp },
          };
        }
        if (outcome.kind === "blocked")
          return { ...op, text_rebase: { version: outcome.version, mine: outcome.mine } };
        return {
          ...op,
          text_rebase: { version: outcome.version, error: outcome.message, error_code: outcome.code },
        };
      });
    }
  }
}
