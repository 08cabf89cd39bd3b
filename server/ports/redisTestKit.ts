import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { closeRedis } from "./redisClient";

/** Test-only helpers for the Redis-backed contract runs. */

/** A key prefix no other test run shares. */
export function testPrefix(): string {
  return `test:${randomUUID()}:`;
}

/** Every key starting with `prefix` (SCAN, never KEYS). */
export async function scanKeys(url: string, prefix: string): Promise<string[]> {
  const admin = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    const found: string[] = [];
    let cursor = "0";
    do {
      const [next, keys] = await admin.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500);
      cursor = next;
      found.push(...keys);
    } while (cursor !== "0");
    return found;
  } finally {
    await closeRedis(admin);
  }
}

/** Deletes every key under `prefix` (the run's own keys only). */
export async function deleteKeys(url: string, prefix: string): Promise<void> {
  const keys = await scanKeys(url, prefix);
  if (keys.length === 0) return;
  const admin = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    for (let i = 0; i < keys.length; i += 500) await admin.unlink(...keys.slice(i, i + 500));
  } finally {
    await closeRedis(admin);
  }
}

/** Kills the server side of every connection whose name starts with `namePrefix`; returns how many. */
export async function killClients(url: string, namePrefix: string): Promise<number> {
  const admin = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    const list = String(await admin.client("LIST"));
    const ids = list
      .split("\n")
      .map((line) => ({ id: /\bid=(\d+)/.exec(line)?.[1], name: /\bname=(\S*)/.exec(line)?.[1] ?? "" }))
      .filter((c) => c.id !== undefined && c.name.startsWith(namePrefix));
    for (const c of ids) await admin.client("KILL", "ID", c.id!);
    return ids.length;
  } finally {
    await closeRedis(admin);
  }
}

/** An address where nothing listens: a Redis that is down. */
export const UNREACHABLE_REDIS_URL = "redis://127.0.0.1:1";
