/**
 * Test-only: an in-process simulation of the server's sync behaviour (MUT-3/4/5, RT-3/5, H4),
 * used by the unit tests of sync.ts. Text ops go through the real `rebaseTextOp` (transform over
 * the ops since base_version with side "left", then apply), as the database path does.
 */

import { type as textType } from "ot-text-unicode";
import type { HistoryEntry } from "../../../server/domain/textRebase";
import { rebaseTextOp } from "../../../server/domain/textRebase";
import type {
  BlockJson,
  Op,
  OpEvent,
  OpResult,
  PresenceInput,
  SnapshotResult,
  SubscribeHandlers,
  SyncTransport,
  TextOp,
} from "./types";
import {
  ClosedError,
  type ClosedReason,
  type ConflictField,
  TransientError,
  WriteRevokedError,
} from "./types";
import { yOrderBetween } from "./yOrder";

interface Row {
  block: BlockJson;
  deleted: boolean;
  history: (HistoryEntry & { fields: string[] })[];
  /** The block at each version (for a conflict's `base`). */
  versions: BlockJson[];
}

export class FakeSyncServer {
  rows = new Map<string, Row>();
  log: OpEvent[] = [];
  seq = 0;
  private results = new Map<string, { payload: string; result: OpResult }>();
  subscribers = new Set<{ push(e: OpEvent): void }>();
  /**
   * The real server reports a text edit's `mine` as the full string when it still knows the base
   * content, else it echoes the text_op; this makes the fake do the latter.
   */
  mineAsTextOp = false;

  get lastSeq(): number {
    return this.log.at(-1)?.server_seq ?? 0;
  }

  mutate(ops: Op[]): { results: OpResult[] } {
    return { results: ops.map((op) => this.apply(op)) };
  }

  snapshot(sinceSeq?: number): SnapshotResult {
    if (sinceSeq === undefined) {
      const blocks = [...this.rows.values()]
        .filter((r) => !r.deleted)
        .map((r) => r.block)
        .sort((a, b) => (a.y_order < b.y_order ? -1 : 1));
      return { mode: "snapshot", blocks: structuredClone(blocks), server_seq: this.lastSeq };
    }
    return {
      mode: "replay",
      events: structuredClone(this.log.filter((e) => e.server_seq > sinceSeq)),
      server_seq: this.lastSeq,
    };
  }

  liveBlocks(): BlockJson[] {
    return (this.snapshot() as { blocks: BlockJson[] }).blocks;
  }

  private apply(op: Op): OpResult {
    const key = `${op.client_op_id}|${op.block_id}`;
    const payload = JSON.stringify(op);
    const seen = this.results.get(key);
    if (seen) {
      if (seen.payload !== payload) return this.fail(op, "idempotency_mismatch");
      return { ...seen.result, replayed: true };
    }
    const result = this.decide(op);
    this.results.set(key, { payload, result });
    return result;
  }

  private fail(op: Op, code: string): OpResult {
    this.seq++;
    return {
      client_op_id: op.client_op_id,
      block_id: op.block_id,
      status: "failed",
      server_seq: this.seq,
      version: null,
      block: null,
      error: { code, message: code },
    };
  }

  private decide(op: Op): OpResult {
    const row = this.rows.get(op.block_id);
    if (op.action === "create") {
      if (row) return this.fail(op, "exists");
      const invalid = this.invalid(op);
      if (invalid) return this.fail(op, invalid);
      const block: BlockJson = {
        block_id: op.block_id,
        canvas_id: "c",
        parent_id: op.parent_id ?? null,
        type: op.type ?? "text",
        content: op.content ?? "",
        props: op.props ?? {},
        y_order: this.place(op.block_id, op.position),
        version: 1,
        created_at: "",
        created_by: null,
        updated_at: "",
        updated_by: null,
      };
      this.rows.set(op.block_id, { block, deleted: false, history: [], versions: [block] });
      return this.commit(op, block, null);
    }
    if (!row) return this.fail(op, "not_found");
    const base = op.base_version ?? row.block.version;
    const fields = (["content", "props", "type", "parent_id", "position"] as const).filter(
      (f) => op[f] !== undefined || (f === "content" && op.text_op !== undefined),
    );
    const since = row.history.filter((h) => h.version > base);
    // As the database does (MUT-4): base / theirs / mine per stale field.
    const conflict = (reason: "deleted" | "stale_fields", stale: readonly string[] = []): OpResult => {
      this.seq++;
      const at = row.versions.find((b) => b.version === base) ?? row.block;
      const value = (b: BlockJson, f: string) =>
        f === "position" ? b.y_order : (b as unknown as Record<string, unknown>)[f];
      const mine = (f: string): unknown => {
        if (op.action === "delete") return null;
        if (f === "content" && op.text_op !== undefined) {
          if (this.mineAsTextOp) return op.text_op;
          try {
            return textType.apply(at.content, op.text_op as TextOp);
          } catch {
            return op.text_op;
          }
        }
        return op[f as keyof Op];
      };
      const out: ConflictField[] = stale.map((f) => ({
        field: f as ConflictField["field"],
        base: value(at, f),
        theirs: value(row.block, f),
        mine: mine(f),
      }));
      return {
        client_op_id: op.client_op_id,
        block_id: op.block_id,
        status: "conflict",
        server_seq: this.seq,
        version: row.block.version,
        block: reason === "deleted" ? null : structuredClone(row.block),
        conflict: { reason, fields: out },
      };
    };
    if (row.deleted) return conflict("deleted");
    // MUT-9: changes made by this op's own chain (prev_client_op_id links) are not stale.
    const chain = this.chainVersions(op, base);
    const changed = (f: string) =>
      since.some(
        (h) =>
          !chain.has(h.version) &&
          (f === "content" && op.text_op !== undefined ? h.content_set : h.fields.includes(f)),
      ) && !(op.action === "update" && this.sameValue(row.block, f, op));
    const stale =
      op.action === "delete" ? (["content", "props", "type", "parent_id", "position"] as const) : fields;
    if (stale.some(changed)) return conflict("stale_fields", stale.filter(changed));
    const invalid = this.invalid(op);
    if (invalid) return this.fail(op, invalid);
    const next = { ...row.block, version: row.block.version + 1 };
    let textOp: TextOp | null = null;
    if (op.text_op) {
      const out = rebaseTextOp({
        op: op.text_op as TextOp,
        baseVersion: base,
        version: row.block.version,
        content: row.block.content,
        baseContent: null,
        history: row.history,
      });
      if (out.kind === "blocked") return conflict("stale_fields");
      if (out.kind === "invalid") return this.fail(op, out.code);
      next.content = out.content;
      textOp = out.textOp;
    }
    if (op.action === "delete") row.deleted = true;
    if (op.content !== undefined) next.content = op.content;
    if (op.props !== undefined) {
      // A props patch merges shallowly; null removes a key (as the database does).
      const props: Record<string, unknown> = { ...next.props, ...op.props };
      for (const [k, v] of Object.entries(op.props)) if (v === null) delete props[k];
      next.props = props;
    }
    if (op.type !== undefined) next.type = op.type;
    if (op.parent_id !== undefined) next.parent_id = op.parent_id;
    if (op.position) next.y_order = this.place(op.block_id, op.position);
    // The database deletes the live descendants first, each an applied op with our client_op_id.
    if (op.action === "delete")
      for (const child of this.descendants(op.block_id)) this.deleteChild(op, child);
    row.history.push({
      version: next.version,
      text_op: textOp,
      content_set: op.content !== undefined,
      fields: op.action === "delete" ? [] : fields,
    });
    row.block = next;
    row.versions.push(next);
    return this.commit(op, row.deleted ? null : next, textOp, next.version);
  }

  /** Versions applied after `base` by the chain `op` names (as potentia_chain_versions walks it). */
  private chainVersions(op: Op, base: number): Set<number> {
    const out = new Set<number>();
    let prev = op.prev_client_op_id;
    for (let depth = 0; prev && depth < 64; depth++) {
      const seen = this.results.get(`${prev}|${op.block_id}`);
      if (!seen) break;
      const { result } = seen;
      if (result.status === "success" && result.version !== null) {
        if (result.version <= base) break;
        out.add(result.version);
      }
      prev = (JSON.parse(seen.payload) as Op).prev_client_op_id;
    }
    return out;
  }

  /** MUT-10 (as potentia_same_value): the update sets field `f` to the value it already has. */
  private sameValue(b: BlockJson, f: string, op: Op): boolean {
    if (f === "type") return op.type === b.type;
    if (f === "parent_id") return (op.parent_id ?? null) === b.parent_id;
    if (f === "content") return op.content !== undefined && op.content === b.content;
    if (f === "props" && op.props) {
      const props: Record<string, unknown> = { ...b.props, ...op.props };
      for (const [k, v] of Object.entries(op.props)) if (v === null) delete props[k];
      return JSON.stringify(sortKeys(props)) === JSON.stringify(sortKeys(b.props));
    }
    if (f === "position" && op.position) {
      const order = this.liveBlocks();
      const i = order.findIndex((x) => x.block_id === b.block_id);
      if (i < 0) return false;
      if (op.position.after && order[i - 1]?.block_id !== op.position.after) return false;
      if (op.position.before && order[i + 1]?.block_id !== op.position.before) return false;
      return op.position.after || op.position.before ? true : i === order.length - 1;
    }
    return false;
  }

  /** y_order for `self` at `position` (after / before / both; none: at the end), as LEX-1 places it. */
  private place(self: string, position: Op["position"]): string {
    const order = this.liveBlocks().filter((b) => b.block_id !== self);
    const at = (id: string | undefined) => (id ? order.findIndex((b) => b.block_id === id) : -1);
    let lo: BlockJson | undefined;
    let hi: BlockJson | undefined;
    if (position?.after) {
      const i = at(position.after);
      lo = order[i];
      hi = position.before ? order[at(position.before)] : order[i + 1];
    } else if (position?.before) {
      const j = at(position.before);
      hi = order[j];
      lo = j > 0 ? order[j - 1] : undefined;
    } else lo = order.at(-1);
    return yOrderBetween(lo?.y_order ?? null, hi?.y_order ?? null);
  }

  /** What the database refuses (a failed result): a position or parent that is not a live block, a cycle. */
  private invalid(op: Op): string | null {
    const live = (id: string) => this.rows.get(id)?.deleted === false;
    // The parent is checked before the position, as potentia_apply_op does.
    if (op.parent_id) {
      if (!live(op.parent_id)) return "invalid_op";
      for (let up: string | null = op.parent_id; up; up = this.rows.get(up)?.block.parent_id ?? null)
        if (up === op.block_id) return "invalid_op";
    }
    if (op.position?.after && (op.position.after === op.block_id || !live(op.position.after)))
      return "invalid_position";
    if (op.position?.before && (op.position.before === op.block_id || !live(op.position.before)))
      return "invalid_position";
    return null;
  }

  /** Live descendants, deepest first. */
  private descendants(id: string): string[] {
    const out: string[] = [];
    const walk = (parent: string) => {
      for (const r of this.rows.values())
        if (!r.deleted && r.block.parent_id === parent) {
          walk(r.block.block_id);
          out.push(r.block.block_id);
        }
    };
    walk(id);
    return out;
  }

  private deleteChild(op: Op, id: string): void {
    const row = this.rows.get(id);
    if (!row) return;
    row.deleted = true;
    const next = { ...row.block, version: row.block.version + 1 };
    row.history.push({ version: next.version, text_op: null, content_set: false, fields: [] });
    row.block = next;
    row.versions.push(next);
    this.commit({ ...op, block_id: id }, null, null, next.version);
  }

  private commit(op: Op, block: BlockJson | null, textOp: TextOp | null, version = 1): OpResult {
    this.seq++;
    const event: OpEvent = {
      type: "op",
      server_seq: this.seq,
      prev_seq: this.log.at(-1)?.server_seq ?? null,
      client_op_id: op.client_op_id,
      user_id: "u",
      action: op.action,
      block_id: op.block_id,
      version,
      ...deltaOf(op, block, textOp),
    };
    this.log.push(event);
    for (const s of this.subscribers) s.push(structuredClone(event));
    return {
      client_op_id: op.client_op_id,
      block_id: op.block_id,
      status: "success",
      server_seq: this.seq,
      version,
      block: structuredClone(block),
      ...(textOp ? { text_op: textOp } : {}),
    };
  }
}

/**
 * A transport to the fake server. `manual` holds requests and events until the test releases
 * them, so a test can interleave deliveries as it likes; `down` makes it fail like a dead network.
 */
export class FakeTransport implements SyncTransport {
  down = false;
  manual = false;
  sent: Op[][] = [];
  subscribes: number[] = [];
  snapshots: (number | undefined)[] = [];
  requests: (() => void)[] = [];
  presences: PresenceInput[] = [];
  /** Set by close(): every call fails with ClosedError. */
  closed: ClosedReason | null = null;
  /** Writes are refused for lack of the right (a writer turned reader); reads go on. */
  writeRevoked = false;
  private held: ((e: Error) => void)[] = [];
  private subs = new Set<{ queue: OpEvent[]; h: SubscribeHandlers; closed: boolean }>();

  constructor(
    readonly server: FakeSyncServer,
    readonly kind: "websocket" | "rest" = "websocket",
  ) {}

  mutate(ops: Op[]): Promise<{ results: OpResult[] }> {
    if (this.closed) return Promise.reject(new ClosedError(this.closed));
    if (this.writeRevoked) return Promise.reject(new WriteRevokedError());
    if (this.down) return Promise.reject(new TransientError("down"));
    this.sent.push(structuredClone(ops));
    if (!this.manual) return Promise.resolve(this.server.mutate(ops));
    return new Promise((resolve, reject) => {
      this.requests.push(() => resolve(this.server.mutate(ops)));
      this.held.push(reject);
    });
  }

  snapshot(sinceSeq?: number): Promise<SnapshotResult> {
    this.snapshots.push(sinceSeq);
    if (this.closed) return Promise.reject(new ClosedError(this.closed));
    if (this.down) return Promise.reject(new TransientError("down"));
    return Promise.resolve(this.server.snapshot(sinceSeq));
  }

  presence(input: PresenceInput): Promise<void> {
    if (this.down) return Promise.reject(new TransientError("down"));
    this.presences.push(structuredClone(input));
    return Promise.resolve();
  }

  /**
   * The server ends our access: open subscriptions close as a 4403 / 4404 would, and every later
   * call is refused (REST 403 / 404).
   */
  close(reason: ClosedReason): void {
    this.closed = reason;
    for (const reject of this.held) reject(new ClosedError(reason));
    this.held = [];
    for (const s of this.subs) {
      s.closed = true;
      s.h.onClose?.(new ClosedError(reason));
    }
    this.subs.clear();
    this.server.subscribers.clear();
  }

  subscribe(sinceSeq: number, h: SubscribeHandlers): () => void {
    this.subscribes.push(sinceSeq);
    const sub = { queue: [] as OpEvent[], h, closed: false };
    const hook = { push: (e: OpEvent) => this.enqueue(sub, e) };
    queueMicrotask(() => {
      if (sub.closed) return;
      if (this.down || this.closed) {
        sub.closed = true;
        h.onClose?.(this.closed ? new ClosedError(this.closed) : new TransientError("down"));
        return;
      }
      this.subs.add(sub);
      this.server.subscribers.add(hook);
      h.onOpen?.();
      const replay = this.server.snapshot(sinceSeq);
      if (replay.mode === "replay") for (const e of replay.events) this.enqueue(sub, e);
    });
    return () => {
      sub.closed = true;
      this.subs.delete(sub);
      this.server.subscribers.delete(hook);
    };
  }

  /** Closes every open subscription as a dropped socket would. */
  drop(): void {
    for (const reject of this.held) reject(new TransientError("socket closed"));
    this.held = [];
    for (const s of this.subs) {
      s.closed = true;
      s.h.onClose?.(new TransientError("dropped"));
    }
    this.subs.clear();
    this.server.subscribers.clear();
  }

  /** Hands one queued event to the subscriber (manual mode). */
  deliverOne(): boolean {
    for (const s of this.subs) {
      const e = s.queue.shift();
      if (e) {
        s.h.onEvent(e);
        return true;
      }
    }
    return false;
  }

  /** The next event deliverOne would hand over. */
  peek(): OpEvent | undefined {
    for (const s of this.subs) if (s.queue[0]) return s.queue[0];
    return undefined;
  }

  queued(): number {
    return [...this.subs].reduce((n, s) => n + s.queue.length, 0);
  }

  /** Injects an arbitrary event (gap and resync tests). */
  inject(e: Parameters<SubscribeHandlers["onEvent"]>[0]): void {
    for (const s of this.subs) s.h.onEvent(e);
  }

  private enqueue(sub: { queue: OpEvent[]; h: SubscribeHandlers; closed: boolean }, e: OpEvent): void {
    if (sub.closed) return;
    if (this.manual) sub.queue.push(e);
    else queueMicrotask(() => !sub.closed && sub.h.onEvent(e));
  }
}

function sortKeys(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The delta an op's event carries (RT-9), as potentia_op_event builds it. */
function deltaOf(op: Op, block: BlockJson | null, textOp: TextOp | null): Partial<OpEvent> {
  if (op.action === "delete" || !block) return {};
  if (op.action === "create") return { block: structuredClone(block) };
  const set: NonNullable<OpEvent["set"]> = {};
  if (op.type !== undefined) set.type = block.type;
  if (op.content !== undefined) set.content = block.content;
  if (op.props !== undefined) set.props = structuredClone(block.props);
  if (op.parent_id !== undefined) set.parent_id = block.parent_id;
  if (op.position !== undefined) set.y_order = block.y_order;
  return {
    updated_at: block.updated_at,
    updated_by: block.updated_by,
    ...(textOp ? { text_op: textOp } : {}),
    ...(Object.keys(set).length > 0 ? { set } : {}),
  };
}
