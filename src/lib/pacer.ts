import { type BucketLimit, Pacer } from "./sync/pacer";

// The pacer lives in src/lib/sync/pacer.ts; this adapter is kept while sync.ts still imports it here.

export type PacerOptions = Omit<BucketLimit, "kind">;

export const DEFAULT_PACING: PacerOptions = { perMinute: 84, burst: 10, minIntervalMs: 200 };

/** MUT-7's budget alone (the engine's request pacing). */
export class RequestPacer {
  private readonly pacer: Pacer;

  constructor(o: PacerOptions = DEFAULT_PACING) {
    this.pacer = new Pacer({ RPC: { kind: "bucket", ...o } });
  }

  delay(now: number): number {
    return this.pacer.delay(["RPC"], now);
  }

  take(now: number): void {
    this.pacer.take(["RPC"], now);
  }
}
