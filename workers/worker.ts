/** WRK-4: every background worker has this shape; `stop()` is idempotent. */
export interface Worker {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}
