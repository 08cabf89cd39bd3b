import type { WebSocket } from "ws";
import { dataFrameHead, plainDataFrame, trackedDataFrame } from "../protocol/wire";

/**
 * The last op frame built, shared by every subscriber with the same envelope head — as one
 * Buffer, so the frame is UTF-8 encoded once per event, not once per socket (RT-11).
 */
const lastFrame = { seq: -1, json: "", head: "", frame: Buffer.alloc(0) };

/**
 * One `sync.events` subscription on one socket. Frames follow tRPC's WebSocket wire protocol
 * (so @trpc/client's wsLink reads them unchanged), but are assembled here: the event JSON is
 * serialised once per canvas and only the per-subscription envelope differs (ENV-NOTES).
 */
export class Subscriber {
  /** Highest server_seq sent to this subscriber (replay and live never send one twice). */
  lastSent = 0;
  /** While the since_seq replay runs, live events wait here. */
  buffer: { seq: number; json: string }[] | null = [];
  /** The envelope's start, shared by every subscription with the same request id (presence frames). */
  readonly head: string;

  constructor(
    readonly socket: WebSocket,
    readonly userId: string,
    /** The request id the client used (number or string), already JSON-encoded. */
    readonly idJson: string,
    jsonrpc: boolean,
    private readonly send: (socket: WebSocket, frame: string | Buffer) => void,
  ) {
    this.head = dataFrameHead(idJson, jsonrpc);
  }

  /** A tracked op event: its server_seq is the event id the client resumes from. */
  sendOp(seq: number, json: string): void {
    if (seq <= this.lastSent) return;
    if (this.buffer) {
      this.buffer.push({ seq, json });
      return;
    }
    this.sendReplayed(seq, json);
  }

  /** An op from the since_seq replay: sent at once, ahead of the live ones waiting in the buffer. */
  sendReplayed(seq: number, json: string): void {
    if (seq <= this.lastSent) return;
    this.lastSent = seq;
    // Most subscriptions of a canvas share one envelope (same request id): build the frame once
    // per event and reuse the same (flattened) string for all of them, not once per socket.
    const c = lastFrame;
    if (c.seq !== seq || c.json !== json || c.head !== this.head) {
      c.seq = seq;
      c.json = json;
      c.head = this.head;
      c.frame = Buffer.from(trackedDataFrame(this.head, seq, json));
    }
    this.send(this.socket, c.frame);
  }

  /** An untracked event (presence, join, leave, resync). */
  sendPlain(json: string): void {
    this.send(this.socket, plainDataFrame(this.head, json));
  }

  /** Ends the replay: flushes what arrived live meanwhile, in order, without duplicates. */
  goLive(): void {
    const waiting = this.buffer ?? [];
    this.buffer = null;
    for (const { seq, json } of waiting) this.sendOp(seq, json);
  }
}
