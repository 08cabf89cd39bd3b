import WebSocket from "ws";

export interface Frame {
  id?: number | string | null;
  jsonrpc?: string;
  result?: { type: string; id?: string; data?: unknown };
  error?: { message: string; code: number; data?: { code?: string } };
}

/** A raw WebSocket client speaking tRPC's wire protocol, recording every frame it receives. */
export class TestWsClient {
  readonly frames: Frame[] = [];
  /** Every frame as received, unparsed (RT-9 measures their bytes). */
  readonly raw: string[] = [];
  closeCode: number | null = null;
  private waiters: (() => void)[] = [];
  private nextId = 1;

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => {
      const text = String(data);
      this.raw.push(text);
      this.frames.push(text === "PONG" ? { result: { type: "pong" } } : (JSON.parse(text) as Frame));
      this.wake();
    });
    ws.on("close", (code) => {
      this.closeCode = code;
      this.wake();
    });
  }

  static open(url: string, opts: { protocols?: string[]; origin?: string } = {}): Promise<TestWsClient> {
    const ws = new WebSocket(
      url,
      opts.protocols ?? [],
      opts.origin ? { headers: { origin: opts.origin } } : {},
    );
    const client = new TestWsClient(ws);
    return new Promise((resolve, reject) => {
      ws.once("open", () => resolve(client));
      ws.once("unexpected-response", (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      ws.once("error", reject);
    });
  }

  /** Opens expecting a refusal; resolves with the HTTP status of the refused upgrade. */
  static refusal(url: string, opts: { protocols?: string[]; origin?: string } = {}): Promise<number> {
    const ws = new WebSocket(
      url,
      opts.protocols ?? [],
      opts.origin ? { headers: { origin: opts.origin } } : {},
    );
    return new Promise((resolve, reject) => {
      ws.once("unexpected-response", (_req, res) => {
        resolve(res.statusCode ?? 0);
        ws.terminate();
      });
      ws.once("open", () => reject(new Error("upgrade was accepted")));
      ws.once("error", () => {});
    });
  }

  send(message: unknown): void {
    this.ws.send(typeof message === "string" ? message : JSON.stringify(message));
  }

  subscribe(input: unknown = {}, lastEventId?: string): number {
    const id = this.nextId++;
    this.send({
      id,
      method: "subscription",
      params: { path: "sync.events", input, ...(lastEventId ? { lastEventId } : {}) },
    });
    return id;
  }

  mutation(path: string, input: unknown): number {
    const id = this.nextId++;
    this.send({ id, method: "mutation", params: { path, input } });
    return id;
  }

  /** Data payloads of one subscription so far. */
  dataOf(id: number): unknown[] {
    return this.frames.filter((f) => f.id === id && f.result?.type === "data").map((f) => f.result!.data);
  }

  /** Op events (the tracked payloads) of one subscription so far. */
  opsOf(id: number): { server_seq: number; prev_seq: number | null; block_id: string; action: string }[] {
    return this.dataOf(id)
      .filter(
        (d): d is { id: string; data: { type: string } } => typeof d === "object" && d !== null && "id" in d,
      )
      .map((d) => d.data as never);
  }

  async until(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) {
        const last = JSON.stringify(this.frames.slice(-2)).slice(0, 300);
        throw new Error(
          `timed out after ${this.frames.length} frames (close ${this.closeCode}); last: ${last}`,
        );
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.ws.close();
  }

  private wake(): void {
    const waiting = this.waiters;
    this.waiters = [];
    for (const w of waiting) w();
  }
}
