import type { IncomingMessage, ServerResponse } from "node:http";
import { STATUS_CODES } from "node:http";
import { MAX_JSON_DEPTH, nestsDeeperThan } from "./safeInput";

/**
 * Sends an RFC 9457 problem: `{ type, title, status, detail, code, ...extra }` as
 * `application/problem+json`. `end` lets a wrapped response send through its original end().
 */
export function sendProblem(
  res: ServerResponse,
  status: number,
  code: string,
  detail: string,
  extra: Record<string, unknown> = {},
  end?: (chunk?: unknown) => unknown,
): void {
  const { code: _ignored, ...rest } = extra;
  const body = JSON.stringify({
    type: `https://potentia.dev/problems/${code}`,
    title: STATUS_CODES[status] ?? "Error",
    status,
    detail,
    code,
    ...rest,
  });
  if (!res.headersSent) {
    res.statusCode = status;
    res.setHeader("content-type", "application/problem+json");
    res.setHeader("content-length", Buffer.byteLength(body));
  }
  if (end) end(body);
  else res.end(body);
}

/**
 * 405 for a known path asked with a method it does not answer, with the `Allow` header listing
 * the ones it does (RFC 9110 §15.5.6). Any body sent is drained, never read.
 */
export function sendMethodNotAllowed(
  req: IncomingMessage,
  res: ServerResponse,
  allow: readonly string[],
): true {
  req.resume();
  res.setHeader("allow", allow.join(", "));
  sendProblem(
    res,
    405,
    "method_not_allowed",
    `${req.method ?? "This method"} is not supported here; use ${allow.join(", ")}`,
  );
  return true;
}

/**
 * The raw body of a request, read to at most `limit` bytes: `undefined` when it is larger (the
 * rest is drained, not buffered). Declared and streamed sizes are both counted.
 */
export async function readBodyText(req: IncomingMessage, limit: number): Promise<string | undefined> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > limit) {
    req.resume();
    return undefined;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      req.resume();
      return undefined;
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * Reads a JSON request body of at most `limit` bytes. Answers 413 / 415 / 400 itself and
 * returns undefined then; an empty body is `{}`.
 */
export async function readJsonBody(
  req: IncomingMessage,
  res: ServerResponse,
  limit: number,
): Promise<{ value: unknown } | undefined> {
  const text = await readBodyText(req, limit);
  if (text === undefined) {
    sendProblem(res, 413, "payload_too_large", `request bodies are limited to ${limit} bytes`);
    return undefined;
  }
  if (text.length === 0) return { value: {} };
  const type = req.headers["content-type"] ?? "";
  if (!/^application\/(.+\+)?json\b/i.test(type)) {
    sendProblem(res, 415, "unsupported_media_type", "send the body as application/json");
    return undefined;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    sendProblem(res, 400, "malformed_json", "the request body is not valid JSON");
    return undefined;
  }
  if (nestsDeeperThan(text)) {
    sendProblem(res, 400, "invalid_input", `JSON bodies may nest at most ${MAX_JSON_DEPTH} levels`);
    return undefined;
  }
  return { value };
}
