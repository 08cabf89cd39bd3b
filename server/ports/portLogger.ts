/**
 * The slice of a logger the ports need. A pino `Logger` satisfies it, so `main.ts` passes its
 * child logger; tests pass `silentLogger` or a recorder.
 */
export interface PortLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export const consoleLogger: PortLogger = {
  info: (obj, msg) => console.info(msg, obj),
  warn: (obj, msg) => console.warn(msg, obj),
  error: (obj, msg) => console.error(msg, obj),
};

export const silentLogger: PortLogger = {
  info: () => {},
  warn: () => {},
  error: () => {},
};

/** A short, log-friendly description of anything thrown. */
export function errorInfo(err: unknown): { err: string } {
  return { err: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
}
