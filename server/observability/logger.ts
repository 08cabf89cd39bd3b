import pino, { type Logger } from "pino";

/** JSON logs (pino) on stdout; one logger per process, children per component. */
export function createLogger(level: string, base: Record<string, unknown> = {}): Logger {
  return pino({ level, base: { service: "potentia", ...base }, timestamp: pino.stdTimeFunctions.isoTime });
}
export type { Logger };
