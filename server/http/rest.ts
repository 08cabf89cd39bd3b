import { readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createRequire } from "node:module";
import path from "node:path";
import { createOpenApiNodeHttpHandler, generateOpenApiDocument, type OpenAPIObject } from "trpc-to-openapi";
import type { AppDeps } from "../deps";
import { DEFAULT_RATE_LIMITS, type Env } from "../env";
import type { AppRouter } from "../routers";
import { createContext } from "../trpc/context";
import type { Meta } from "../trpc/init";
import { allowedMethods } from "./allowedMethods";
import { postProcessOpenApi } from "./openapiPost";
import { readJsonBody, sendProblem } from "./problem";
import { queryObject } from "./safeInput";

export const API_PREFIX = "/api/v1";
const MAX_BODY_BYTES = 256 * 1024;

type ProcedureMeta = { meta?: Meta; type: string };

/** Every procedure's meta by path, for status codes that trpc-to-openapi cannot express. */
function metaByPath(router: AppRouter): Map<string, Meta> {
  const map = new Map<string, Meta>();
  const procedures = router._def.procedures as unknown as Record<string, { _def: ProcedureMeta }>;
  for (const [name, proc] of Object.entries(procedures)) {
    if (proc._def.meta) map.set(name, proc._def.meta);
  }
  return map;
}

/** The OpenAPI 3 document of every REST route (API docs). */
export function buildOpenApiDocument(
  router: AppRouter,
  baseUrl: string,
  env: Pick<Env, "RATE_LIMITS" | "NODE_ENV"> = { RATE_LIMITS: DEFAULT_RATE_LIMITS, NODE_ENV: "development" },
): OpenAPIObject {
  const doc = generateOpenApiDocument(router, {
    title: "POTENTIA API",
    version: "1.0.0",
    description:
      "REST API of POTENTIA, generated from the tRPC procedures. Errors are RFC 9457 problem+json. " +
      "A documented path asked with a method it does not list answers 405 with an `Allow` header.",
    baseUrl,
    securitySchemes: { bearerAuth: { type: "http", scheme: "bearer", bearerFormat: "JWT" } },
  });
  const procedures = router._def.procedures as unknown as Parameters<typeof postProcessOpenApi>[1];
  return postProcessOpenApi(doc, procedures, {
    rateLimits: env.RATE_LIMITS,
    debugRoutes: env.NODE_ENV !== "production",
  });
}

const swaggerDir = path.dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
const DOCS_ASSETS = new Set([
  "swagger-ui.css",
  "swagger-ui-bundle.js",
  "swagger-ui-standalone-preset.js",
  "favicon-32x32.png",
]);
const DOCS_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>POTENTIA API</title>
<link rel="stylesheet" href="/api/docs/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/api/docs/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({ url: "${API_PREFIX}/openapi.json", dom_id: "#swagger-ui" });</script>
</body></html>`;

/**
 * The REST surface: `/api/v1/*` through trpc-to-openapi, the OpenAPI document, and the docs page
 * (swagger-ui-dist from npm, no CDN). Bodies are read here, once: over 256 KiB → 413, malformed
 * JSON → 400, both as problem+json; every error leaving trpc-to-openapi is reshaped to RFC 9457.
 */
export function createRestHandler(deps: AppDeps, router: AppRouter, baseUrl: () => string) {
  const metas = metaByPath(router);
  let doc: string | undefined;
  let methodsAt: ReturnType<typeof allowedMethods> | undefined;
  /** The document, built once; the 405 check reads its paths. */
  const documentJson = () => {
    if (doc === undefined) {
      const built = buildOpenApiDocument(router, baseUrl(), deps.env);
      doc = JSON.stringify(built);
      methodsAt = allowedMethods(built.paths as Parameters<typeof allowedMethods>[0], {
        [`${API_PREFIX}/openapi.json`]: ["GET"],
      });
    }
    return doc;
  };
  // The node-http handler takes the IncomingMessage itself, with the body parsed above as `req.body`.
  const handler = createOpenApiNodeHttpHandler({
    router,
    createContext: ({ req, res }) => createContext(deps, req as IncomingMessage, res as ServerResponse),
    maxBodySize: MAX_BODY_BYTES,
    responseMeta: ({ paths, errors }) => {
      const meta = paths?.[0] ? metas.get(paths[0]) : undefined;
      if (errors.length === 0 && meta?.successStatus) return { status: meta.successStatus };
      return {};
    },
    onError: ({ error, path: p }) => {
      if (error.code === "INTERNAL_SERVER_ERROR")
        deps.log.error({ err: error.cause ?? error, path: p }, "procedure failed");
    },
  });

  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const url = req.url ?? "/";
    const pathname = url.split("?")[0]!;
    if (pathname === `${API_PREFIX}/openapi.json` && req.method === "GET") {
      const body = documentJson();
      res.writeHead(200, { "content-type": "application/json", "cache-control": "no-cache" });
      res.end(body);
      return true;
    }
    if (pathname === "/api/docs" || pathname === "/api/docs/") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(DOCS_HTML);
      return true;
    }
    if (pathname.startsWith("/api/docs/")) {
      const name = pathname.slice("/api/docs/".length);
      if (!DOCS_ASSETS.has(name)) return false;
      const type = name.endsWith(".css")
        ? "text/css"
        : name.endsWith(".png")
          ? "image/png"
          : "text/javascript";
      res.writeHead(200, { "content-type": type, "cache-control": "public, max-age=3600" });
      res.end(await readFile(path.join(swaggerDir, name)));
      return true;
    }
    if (!pathname.startsWith(`${API_PREFIX}/`)) return false;

    // A documented path asked with a method it does not answer: 405 with `Allow`, before the body
    // is read (a POST to a GET route is neither a 415 nor a 404). HEAD goes where GET goes.
    documentJson();
    const allowed = methodsAt?.(pathname) ?? null;
    const method = (req.method ?? "GET").toUpperCase();
    if (allowed && !allowed.includes(method) && !(method === "HEAD" && allowed.includes("GET"))) {
      req.resume();
      res.setHeader("allow", allowed.join(", "));
      sendProblem(
        res,
        405,
        "method_not_allowed",
        `${method} is not supported here; use ${allowed.join(", ")}`,
      );
      return true;
    }

    if (req.method !== "GET" && req.method !== "HEAD" && req.method !== "DELETE") {
      const body = await readJsonBody(req, res, MAX_BODY_BYTES);
      if (body === undefined) return true; // a problem was sent
      // API-3: every REST body is a JSON object. The adapter spreads the body into the input, so
      // `[]`, `5` or `true` would spread to nothing and pass as `{}` (H3 answered them 200).
      if (typeof body.value !== "object" || body.value === null || Array.isArray(body.value)) {
        sendProblem(res, 400, "invalid_input", "the request body must be a JSON object");
        return true;
      }
      (req as IncomingMessage & { body?: unknown }).body = body.value;
      // Parsed here already; the adapter only needs to know it is JSON.
      req.headers["content-type"] = "application/json";
    }
    // API-3: a prototype-less query object, so `?__proto__=` cannot crash the adapter.
    (req as IncomingMessage & { query?: unknown }).query = queryObject(url.slice(pathname.length));
    reshapeErrors(res);
    await handler(req, res);
    return true;
  };
}

/** Rewrites the tRPC-shaped error bodies of trpc-to-openapi into problem+json (API-3). */
function reshapeErrors(res: ServerResponse): void {
  const end = res.end.bind(res) as (chunk?: unknown, ...rest: unknown[]) => ServerResponse;
  (res as { end: unknown }).end = (chunk?: unknown, ...rest: unknown[]) => {
    if (res.statusCode === 204) return end(undefined, ...rest);
    if (res.statusCode >= 400 && typeof chunk === "string") {
      let shaped: { message?: string; data?: { problem?: Record<string, unknown> } } = {};
      try {
        shaped = JSON.parse(chunk);
      } catch {
        // not JSON: keep the defaults below
      }
      const problem = shaped.data?.problem ?? { code: "internal" };
      const status = res.statusCode;
      const detail = status >= 500 ? "An unexpected error occurred." : (shaped.message ?? "");
      sendProblem(res, status, String(problem.code ?? "internal"), detail, problem, end);
      return res;
    }
    return end(chunk, ...rest);
  };
}
