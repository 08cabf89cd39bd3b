/** Input hardening for what third-party adapters do with request bodies and query strings (API-3). */

/** Bodies nested deeper than this are refused: the API's documents are a few levels deep. */
export const MAX_JSON_DEPTH = 100;

/**
 * True when `text` nests objects/arrays deeper than `max`, judged without parsing (one pass,
 * strings skipped). `JSON.parse` copes with any depth, but what runs after it recurses —
 * `JSON.stringify` inside the tRPC adapter, zod, the echo route — and a body of 256 KiB can nest
 * 130,000 levels, which overflows the stack: a 500 for a client's mistake (API-3).
 */
export function nestsDeeperThan(text: string, max: number = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/**
 * The query string as trpc-to-openapi's node adapter wants it in `req.query` (every value an
 * array), on an object without a prototype. Left to itself the adapter collects parameters in a
 * plain object, so `?__proto__=x` or `?constructor=x` reach `Object.prototype` and crash it (a 500).
 */
export function queryObject(search: string): Record<string, string[]> {
  const query = Object.create(null) as Record<string, string[]>;
  for (const [key, value] of new URLSearchParams(search)) {
    const values = query[key] ?? [];
    values.push(value);
    query[key] = values;
  }
  return query;
}
