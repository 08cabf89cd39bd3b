import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { expect } from "vitest";

// biome-ignore lint/suspicious/noExplicitAny: the checker walks an untyped JSON document
type Json = Record<string, any>;
const METHODS = ["get", "put", "post", "delete", "patch"] as const;
/** The id the document's components are registered under (any absolute URI; never fetched). */
const DOC_ID = "https://potentia.test/openapi.json";
// ajv-formats is CommonJS: its default export arrives wrapped under ESM interop.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as unknown as (ajv: Ajv2020) => void;

export interface Answer {
  status: number;
  /** The parsed JSON body (undefined when there is none). */
  body: Json | undefined;
  headers: Headers;
}

interface Operation {
  key: string;
  pattern: RegExp;
  /** Literal segments first when several templates match one path. */
  params: number;
  op: Json;
}

/**
 * API-1..4 against the document itself: every answer the API gives is checked against the
 * OpenAPI document it serves — its status must be one the operation documents, its media type
 * one the status documents, and its body must validate against that schema (JSON Schema 2020-12,
 * the dialect of OpenAPI 3.1, with `components` resolvable; formats checked by ajv-formats).
 * Records which operations answered what, so a test can demand every route be exercised.
 */
export class DocumentedAnswers {
  readonly #doc: Json;
  readonly #ops: Operation[] = [];
  readonly #ajv: Ajv2020;
  readonly #validators = new Map<string, ValidateFunction>();
  /** `METHOD /template` → statuses seen. */
  readonly seen = new Map<string, Set<number>>();

  constructor(doc: Json) {
    this.#doc = doc;
    for (const [template, item] of Object.entries(doc.paths as Json)) {
      for (const method of METHODS) {
        if (!item[method]) continue;
        const params = (template.match(/\{[^}]+\}/g) ?? []).length;
        const source = template
          .split("/")
          .map((s) => (/^\{[^}]+\}$/.test(s) ? "[^/]+" : s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
          .join("/");
        this.#ops.push({
          key: `${method.toUpperCase()} ${template}`,
          pattern: new RegExp(`^${method.toUpperCase()} ${source}$`),
          params,
          op: item[method],
        });
      }
    }
    this.#ops.sort((a, b) => a.params - b.params);
    // OpenAPI 3.1 keywords that are not JSON Schema (example, discriminator, …) are annotations.
    this.#ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
    addFormats(this.#ajv);
    this.#ajv.addSchema({ $id: DOC_ID, components: doc.components });
  }

  /** Every operation of the document, as `METHOD /template`. */
  operations(filter: (key: string) => boolean = () => true): string[] {
    return this.#ops.map((o) => o.key).filter(filter);
  }

  has(method: string, template: string): boolean {
    return this.#ops.some((o) => o.key === `${method.toUpperCase()} ${template}`);
  }

  /** Checks one answer against the document; returns it parsed. */
  async check(method: string, url: string, res: Response): Promise<Answer> {
    const pathname = new URL(url, "http://x").pathname;
    const found = this.#ops.find((o) => o.pattern.test(`${method.toUpperCase()} ${pathname}`));
    const text = await res.text();
    const where = `${method.toUpperCase()} ${pathname} → ${res.status} ${text.slice(0, 300)}`;
    expect(found, `${where}: the operation is documented`).toBeDefined();
    const op = found as Operation;
    const documented = op.op.responses?.[String(res.status)] ?? op.op.responses?.default;
    expect(documented, `${where}: ${res.status} is documented for ${op.key}`).toBeDefined();
    const response = this.#deref(documented);
    const type = (res.headers.get("content-type") ?? "").split(";")[0]!.trim();
    let body: Json | undefined;
    if (response.content) {
      const media = response.content[type];
      expect(
        media,
        `${where}: content type ${type} is documented (${Object.keys(response.content)})`,
      ).toBeDefined();
      if (type.endsWith("json")) {
        body = JSON.parse(text);
        if (media.schema) this.#validate(`${op.key} ${res.status} ${type}`, media.schema, body, where);
      }
    } else {
      expect(text, `${where}: ${res.status} documents no body`).toBe("");
    }
    // Headers a status documents as required are there (429's Retry-After is checked by name).
    for (const [name, header] of Object.entries((response.headers ?? {}) as Json)) {
      if (this.#deref(header).required)
        expect(res.headers.get(name), `${where}: header ${name}`).not.toBeNull();
    }
    if (res.status === 429) expect(res.headers.get("retry-after"), `${where}: Retry-After`).not.toBeNull();
    const statuses = this.seen.get(op.key) ?? new Set<number>();
    statuses.add(res.status);
    this.seen.set(op.key, statuses);
    return { status: res.status, body, headers: res.headers };
  }

  #deref(value: Json): Json {
    let node = value;
    for (let i = 0; typeof node?.$ref === "string" && i < 10; i++) {
      node = (node.$ref as string)
        .slice(2)
        .split("/")
        .reduce((n: Json, key: string) => n?.[key], this.#doc);
    }
    return node;
  }

  #validate(cacheKey: string, schema: Json, body: unknown, where: string): void {
    let validate = this.#validators.get(cacheKey);
    if (!validate) {
      // Local references point into the document's components, registered above.
      const rebased = JSON.parse(
        JSON.stringify(schema).replaceAll('"#/components/', `"${DOC_ID}#/components/`),
      );
      validate = this.#ajv.compile(rebased);
      this.#validators.set(cacheKey, validate);
    }
    const ok = validate(body);
    expect(ok ? [] : validate.errors, `${where}: the body matches the documented schema`).toEqual([]);
  }
}
