import pino, { type DestinationStream, type Logger } from "pino";

/**
 * Properties that database drivers attach to their errors and that carry the statement's data:
 * PGlite adds `query` and `params`, pg's DatabaseError can carry `parameters`/`where`. A failed
 * register would log a password hash and an email through them (SEC-1), a failed group commit
 * every op of it, so they never reach a log line.
 */
const DATA_KEYS = ["params", "parameters", "query", "where", "internalQuery"];

function withoutData(serialized: Record<string, unknown>, depth = 0): Record<string, unknown> {
  for (const key of DATA_KEYS) delete serialized[key];
  const cause = serialized.cause;
  if (depth < 5 && cause && typeof cause === "object")
    serialized.cause = withoutData({ ...(cause as Record<string, unknown>) }, depth + 1);
  return serialized;
}

/** pino's error serializer, minus the statement data drivers attach (SEC-1). */
export function serializeError(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  return withoutData(pino.stdSerializers.err(err) as unknown as Record<string, unknown>);
}

/** JSON logs (pino) on stdout; one logger per process, children per component. */
export function createLogger(
  level: string,
  base: Record<string, unknown> = {},
  destination?: DestinationStream,
): Logger {
  return pino(
    {
      level,
      base: { service: "potentia", ...base },
      timestamp: pino.stdTimeFunctions.isoTime,
      serializers: { err: serializeError },
    },
    destination,
  );
}
export type { Logger };
