/**
 * AUTH-2: whether a token's scopes (`canvas:{id|*}:{read|write}`) grant `kind` on a canvas. The
 * one place the scope format is read (authorizeCanvas, and routes that need a scope beyond the role).
 */
export function hasCanvasScope(scopes: readonly string[], canvasId: string, kind: "read" | "write"): boolean {
  return scopes.includes(`canvas:${canvasId}:${kind}`) || scopes.includes(`canvas:*:${kind}`);
}
