/**
 * "5 minutes ago", "yesterday", "last month": the coarsest unit that fits, with
 * Intl.RelativeTimeFormat (no library). Future times (a clock ahead of ours) read as "just now".
 */
const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ["year", 365 * 24 * 3600],
  ["month", 30 * 24 * 3600],
  ["week", 7 * 24 * 3600],
  ["day", 24 * 3600],
  ["hour", 3600],
  ["minute", 60],
];

const formatters = new Map<string, Intl.RelativeTimeFormat>();

export function relativeTime(at: Date | string, now: number, locale = "en"): string {
  const then = typeof at === "string" ? Date.parse(at) : at.getTime();
  if (Number.isNaN(then)) return "";
  const seconds = Math.max(0, Math.round((now - then) / 1000));
  if (seconds < 45) return "just now";
  let rtf = formatters.get(locale);
  if (!rtf) {
    rtf = new Intl.RelativeTimeFormat(locale, { numeric: "auto" });
    formatters.set(locale, rtf);
  }
  for (const [unit, size] of UNITS) {
    if (seconds >= size) return rtf.format(-Math.floor(seconds / size), unit);
  }
  // 45–59 s: round up to a minute rather than say "0 minutes ago".
  return rtf.format(-1, "minute");
}

/** When a canvas last changed: its newest block change or its own update, whichever is later. */
export function lastEdited(c: { updated_at: string; last_change_at: string | null }): string {
  if (!c.last_change_at) return c.updated_at;
  return Date.parse(c.last_change_at) > Date.parse(c.updated_at) ? c.last_change_at : c.updated_at;
}
