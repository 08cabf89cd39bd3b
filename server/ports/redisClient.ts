import type { Redis } from "ioredis";

/**
 * Disconnects an ioredis client and resolves once its socket is gone. Between reconnect
 * attempts there is no socket and ioredis emits no further "end", so that case resolves at once.
 */
export async function closeRedis(client: Redis): Promise<void> {
  if (client.status === "end") return;
  if (client.status === "wait" || client.status === "reconnecting") {
    client.disconnect();
    return;
  }
  await new Promise<void>((resolve) => {
    // Guard against a socket that never reports its end; the timer is cleared on the normal path.
    const timer = setTimeout(resolve, 2_000);
    client.once("end", () => {
      clearTimeout(timer);
      resolve();
    });
    client.disconnect();
  });
}

/** Redis connection names may not contain spaces or newlines. */
export function connectionName(...parts: string[]): string {
  return parts.join("").replace(/[\s]+/g, "_");
}
