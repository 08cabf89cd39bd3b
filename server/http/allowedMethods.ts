/** Methods an OpenAPI path item can hold, in the order an `Allow` header lists them. */
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"] as const;

/**
 * The methods each path of an OpenAPI document answers, read from the document itself so that
 * the 405 `Allow` header (RFC 9110 §15.5.6) cannot drift from the routes: `methodsAt(pathname)`
 * is the upper-case list for a path that matches a documented template (`{param}` is one
 * segment; a trailing slash is ignored, as the REST adapter ignores it), null for an unknown
 * path. Several templates matching one path (a literal and a parameter) add up.
 */
export function allowedMethods(
  paths: Record<string, Record<string, unknown> | undefined>,
  extra: Record<string, string[]> = {},
): (pathname: string) => string[] | null {
  const routes: { pattern: RegExp; methods: string[] }[] = [];
  const add = (template: string, methods: string[]) => {
    const source = template
      .split("/")
      .map((segment) => (/^\{[^}]+\}$/.test(segment) ? "[^/]+" : escapeRegExp(segment)))
      .join("/");
    routes.push({ pattern: new RegExp(`^${source}$`), methods });
  };
  for (const [template, item] of Object.entries(paths)) {
    const methods = METHODS.filter((m) => item?.[m] !== undefined).map((m) => m.toUpperCase());
    if (methods.length > 0) add(template, methods);
  }
  for (const [template, methods] of Object.entries(extra)) add(template, methods);

  return (pathname) => {
    const path = pathname.length > 1 ? pathname.replace(/\/+$/, "") : pathname;
    const found = new Set<string>();
    for (const route of routes) if (route.pattern.test(path)) for (const m of route.methods) found.add(m);
    if (found.size === 0) return null;
    return METHODS.map((m) => m.toUpperCase()).filter((m) => found.has(m));
  };
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
