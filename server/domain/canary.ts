import { createHash } from "node:crypto";

/**
 * OPS-4: the bucket (0..99) of a canvas, from a stable hash of its id: the first 4 bytes of
 * SHA-256 of the lower-case id, big-endian, mod 100. Same answer on every process and restart.
 */
export function canaryBucket(canvasId: string): number {
  return createHash("sha256").update(canvasId.toLowerCase(), "utf8").digest().readUInt32BE(0) % 100;
}

/** Whether the canvas is in the canary share of `percent` (0..100; fractions allowed). */
export function inCanary(canvasId: string, percent: number): boolean {
  if (percent <= 0) return false;
  if (percent >= 100) return true;
  return canaryBucket(canvasId) < percent;
}
