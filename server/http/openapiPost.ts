import type { OpenAPIObject } from "trpc-to-openapi";
import type { RateLimitId, RateLimits } from "../env";
import type { Meta } from "../trpc/init";
import { requireAuth } from "../trpc/init";

/**
 * Post-processing of the document trpc-to-openapi generates (it can express neither 201/204, nor
 * problem+json errors, nor response headers): success statuses from `meta.successStatus`, one
 * RFC 9457 `Problem` schema for every error, the error responses each operation can really
 * answer, the `RateLimit-*` headers (and `Retry-After` on 429), each operation's rate rule as
 * `x-rate-limit`, and the non-tRPC routes of SPEC §5 (M1, M2, S1, M3).
 */

type Json = Record<string, unknown>;
type ProcedureDef = { meta?: Meta; middlewares?: unknown[] };

export interface OpenApiPostOptions {
  /** The rules in force (`env.RATE_LIMITS`), shown per operation. */
  rateLimits: RateLimits;
  /** M3 is documented only where it answers (not NODE_ENV=production). */
  debugRoutes: boolean;
}

const PROBLEM = "application/problem+json";
const BODY_METHODS = new Set(["post", "put", "patch"]);

/** Reusable error responses, by status. */
const ERROR_RESPONSES: Record<number, { name: string; description: string }> = {
  400: {
    name: "BadRequest",
    description: "Invalid input: malformed JSON, a bad id, or a schema violation (see `errors`).",
  },
  401: { name: "Unauthorized", description: "A valid bearer access token is required." },
  403: {
    name: "Forbidden",
    description: "Your role on the canvas or your token's scope does not allow this.",
  },
  404: { name: "NotFound", description: "No such resource, or you are not a member of its canvas (API-1)." },
  405: { name: "MethodNotAllowed", description: "The route does not answer this method." },
  409: { name: "Conflict", description: "The request conflicts with the current state." },
  413: { name: "PayloadTooLarge", description: "Request bodies are limited to 256 KiB." },
  415: { name: "UnsupportedMediaType", description: "Send the body as application/json." },
  422: { name: "UnprocessableContent", description: "The request is well-formed but cannot be applied." },
  429: {
    name: "TooManyRequests",
    description: "Rate limit exceeded (API-2); retry after `Retry-After` seconds.",
  },
  500: { name: "InternalError", description: "An unexpected error occurred." },
  503: {
    name: "ServiceUnavailable",
    description: "A dependency (the database, or one the route needs) is unavailable; retry later.",
  },
};

const RATE_HEADERS = {
  "RateLimit-Limit": {
    description: "Requests allowed in the current window of this route's rule.",
    schema: { type: "integer", minimum: 1 },
  },
  "RateLimit-Remaining": {
    description: "Requests left in the current window.",
    schema: { type: "integer", minimum: 0 },
  },
  "RateLimit-Reset": {
    description: "Seconds until the current window resets.",
    schema: { type: "integer", minimum: 0 },
  },
  "Retry-After": {
    description: "Seconds to wait before retrying.",
    schema: { type: "integer", minimum: 1 },
  },
};
const rateHeaderRefs = (withRetry: boolean): Json =>
  Object.fromEntries(
    Object.keys(RATE_HEADERS)
      .filter((name) => withRetry || name !== "Retry-After")
      .map((name) => [name, { $ref: `#/components/headers/${name}` }]),
  );

const PROBLEM_SCHEMA = {
  type: "object",
  description: "RFC 9457 problem details; `code` is the stable machine-readable reason.",
  required: ["type", "title", "status", "detail", "code"],
  properties: {
    type: { type: "string", format: "uri", examples: ["https://potentia.dev/problems/invalid_input"] },
    title: { type: "string", examples: ["Bad Request"] },
    status: { type: "integer", minimum: 400, maximum: 599 },
    detail: { type: "string" },
    code: { type: "string", examples: ["invalid_input", "rate_limited", "canvas_not_found"] },
    errors: {
      type: "array",
      description: "Schema violations (400 `invalid_input`): one entry per offending field.",
      items: {
        type: "object",
        required: ["path", "message"],
        properties: { path: { type: "string" }, message: { type: "string" }, code: { type: "string" } },
      },
    },
    rule: { type: "string", description: "429: the rate-limit rule id (SPEC §5)." },
    limit: { type: "integer", description: "429: the rule's requests per window." },
    retry_after_s: { type: "integer", description: "429: seconds to wait, as `Retry-After`." },
  },
  additionalProperties: true,
};

function problemResponse(status: number): Json {
  const known = ERROR_RESPONSES[status];
  return {
    description: known?.description ?? "An error.",
    ...(status === 429 ? { headers: rateHeaderRefs(true) } : {}),
    content: { [PROBLEM]: { schema: { $ref: "#/components/schemas/Problem" } } },
  };
}
const errorRef = (status: number): Json => {
  const known = ERROR_RESPONSES[status];
  return known ? { $ref: `#/components/responses/${known.name}` } : problemResponse(status);
};

/** True when the procedure runs `requireAuth` (authedProcedure). */
function isAuthed(def: ProcedureDef): boolean {
  const auth = (requireAuth as unknown as { _middlewares: unknown[] })._middlewares;
  return auth.every((m) => def.middlewares?.includes(m));
}

/** The error statuses a procedure declares (`meta.openapi.errorResponses`), with their descriptions. */
function declaredErrors(meta: Meta): Map<number, string | undefined> {
  const declared = meta.openapi?.errorResponses;
  const out = new Map<number, string | undefined>();
  if (!declared) return out;
  if (Array.isArray(declared)) for (const s of declared) out.set(Number(s), undefined);
  else
    for (const [s, text] of Object.entries(declared))
      out.set(Number(s), typeof text === "string" ? text : undefined);
  for (const s of out.keys()) if (!(s >= 400)) out.delete(s);
  return out;
}

/**
 * The error statuses an operation can answer. Every one may answer 503 (the database or another
 * dependency unreachable: `unavailable`, the same code on every transport) besides 500.
 */
function errorStatuses(method: string, path: string, authed: boolean, meta: Meta): number[] {
  const statuses = new Set<number>([400, 429, 500, 503, ...declaredErrors(meta).keys()]);
  const hasPathParams = /\{[^}]+\}/.test(path);
  if (authed) statuses.add(401);
  if (authed && hasPathParams) statuses.add(403);
  if (hasPathParams) statuses.add(404);
  if (BODY_METHODS.has(method)) {
    statuses.add(413);
    statuses.add(415);
  }
  return [...statuses].sort((a, b) => a - b);
}

function rateExtension(id: RateLimitId, rules: RateLimits): Json {
  const rule = rules[id] ?? rules.DEFAULT;
  return { rule: id, points: rule.points, duration_s: rule.duration };
}

const jsonContent = (schema: Json): Json => ({ "application/json": { schema } });

/** Paths of SPEC §5 served outside tRPC (health.ts, internal.ts). */
function extraPaths(opts: OpenApiPostOptions): Json {
  const problem = (s: number) => errorRef(s);
  const statusBody = { type: "object", required: ["status"], properties: { status: { type: "string" } } };
  const paths: Json = {
    "/health": {
      get: {
        operationId: "ops-health",
        tags: ["operations"],
        summary: "M1: liveness; checks no dependency",
        security: [],
        responses: {
          200: {
            description: "The process answers.",
            content: jsonContent({ ...statusBody, properties: { status: { const: "ok" } } }),
          },
        },
      },
    },
    "/ready": {
      get: {
        operationId: "ops-ready",
        tags: ["operations"],
        summary: "M2: readiness (database, Redis, pgvector)",
        security: [],
        responses: Object.fromEntries(
          [200, 503].map((s) => [
            s,
            {
              description: s === 200 ? "Ready (Redis down reports `degraded`)." : "Not ready, or draining.",
              content: jsonContent({
                type: "object",
                required: ["status", "checks"],
                properties: {
                  status: { type: "string", enum: ["ok", "degraded", "unavailable", "draining"] },
                  checks: {
                    type: "object",
                    properties: {
                      db: { type: "string" },
                      redis: { type: "string" },
                      vector: { type: "string" },
                    },
                  },
                },
              }),
            },
          ]),
        ),
      },
    },
    "/metrics": {
      get: {
        operationId: "internal-metrics",
        tags: ["internal"],
        summary: "S1: Prometheus metrics (internal token, or loopback when none is set)",
        security: [{ internalToken: [] }],
        responses: {
          200: {
            description: "Prometheus text exposition format.",
            content: { "text/plain": { schema: { type: "string" } } },
          },
          401: problem(401),
          403: problem(403),
          405: problem(405),
        },
      },
    },
  };
  if (opts.debugRoutes) {
    paths["/debug/echo"] = {
      post: {
        operationId: "internal-echo",
        tags: ["internal"],
        summary: "M3: the JSON body back (internal; 404 when NODE_ENV=production)",
        security: [{ internalToken: [] }],
        "x-rate-limit": rateExtension("M3", opts.rateLimits),
        requestBody: { required: false, content: jsonContent({}) },
        responses: {
          200: {
            description: "The request body, as sent.",
            headers: rateHeaderRefs(false),
            content: jsonContent({}),
          },
          ...Object.fromEntries([400, 401, 403, 405, 413, 415, 429].map((s) => [s, problem(s)])),
        },
      },
    };
  }
  return paths;
}

/** Rewrites `doc` in place (see the file comment) and returns it. */
export function postProcessOpenApi(
  doc: OpenAPIObject,
  procedures: Record<string, { _def: ProcedureDef }>,
  opts: OpenApiPostOptions,
): OpenAPIObject {
  const paths = (doc.paths ?? {}) as Record<string, Record<string, Json>>;
  for (const proc of Object.values(procedures)) {
    const meta = proc._def.meta;
    const openapi = meta?.openapi;
    if (!meta || !openapi) continue;
    const path = `/${openapi.path.replace(/^\/|\/$/g, "")}`;
    const method = openapi.method.toLowerCase();
    const op = paths[path]?.[method];
    if (!op) continue;
    const authed = isAuthed(proc._def);
    const generated = (op.responses ?? {}) as Record<string, Json>;
    const success = { ...(generated["200"] ?? { description: "Successful response" }) };
    const status = meta.successStatus ?? 200;
    if (status === 204) delete success.content;
    success.headers = { ...((success.headers as Json | undefined) ?? {}), ...rateHeaderRefs(false) };
    if (status !== 200 && success.description === "Successful response") {
      success.description = status === 201 ? "Created" : status === 204 ? "No Content" : success.description;
    }
    const responses: Json = { [String(status)]: success };
    const declared = declaredErrors(meta);
    for (const s of errorStatuses(method, path, authed, meta)) {
      // What this operation says about the status (e.g. which `code`s), else the shared answer.
      const text = declared.get(s);
      responses[String(s)] = text ? { ...problemResponse(s), description: text } : errorRef(s);
    }
    op.responses = responses;
    // Public operations accept a token but do not need one.
    if (!authed && Array.isArray(op.security) && op.security.length > 0) op.security = [{}, ...op.security];
    op["x-rate-limit"] = rateExtension(meta.rateLimit ?? "DEFAULT", opts.rateLimits);
  }
  Object.assign(paths, extraPaths(opts));
  doc.paths = paths as OpenAPIObject["paths"];

  const components = (doc.components ?? {}) as Json & {
    schemas?: Record<string, unknown>;
    securitySchemes?: Record<string, unknown>;
  };
  // trpc-to-openapi's tRPC-shaped error schemas are referenced no more.
  const schemas = Object.fromEntries(
    Object.entries(components.schemas ?? {}).filter(([name]) => !name.startsWith("error.")),
  );
  components.schemas = { ...schemas, Problem: PROBLEM_SCHEMA };
  components.responses = Object.fromEntries(
    Object.entries(ERROR_RESPONSES).map(([s, { name }]) => [name, problemResponse(Number(s))]),
  );
  components.headers = RATE_HEADERS;
  components.securitySchemes = {
    ...(components.securitySchemes ?? {}),
    internalToken: {
      type: "http",
      scheme: "bearer",
      description: "INTERNAL_TOKEN; without it configured, internal routes answer on loopback only.",
    },
  };
  doc.components = components as OpenAPIObject["components"];
  doc.tags = [
    ...(doc.tags ?? []),
    { name: "operations", description: "Liveness and readiness (M1, M2)." },
    { name: "internal", description: "Internal routes (S1, M3): internal token or loopback only (API-4)." },
  ];
  return doc;
}
