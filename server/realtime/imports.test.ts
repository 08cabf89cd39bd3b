import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const SERVER = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const REALTIME = path.join(SERVER, "realtime");

/** The server's source files (tests and contract suites aside). */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sources(full);
    return /\.ts$/.test(name) && !/\.(test|int\.test|contract)\.ts$/.test(name) ? [full] : [];
  });
}

/** Relative imports and re-exports of a file, type-only ones included (they tie designs too). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const out: string[] = [];
  for (const m of text.matchAll(/(?:import|export)\s[^'"]*?from\s+["'](\.[^'"]+)["']/g)) {
    const base = path.resolve(path.dirname(file), m[1]!);
    const target = [base, `${base}.ts`, path.join(base, "index.ts")].find(
      (c) => existsSync(c) && c.endsWith(".ts"),
    );
    if (target) out.push(target);
  }
  return out;
}

/** Strongly connected components with more than one file (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) out.push(scc);
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}

describe("the real-time engine's dependencies", () => {
  it("RT-2: no import cycle runs through server/realtime (the connection depends on an interface, not on the hub)", () => {
    const graph = new Map(sources(SERVER).map((f) => [f, importsOf(f)]));
    const throughRealtime = cycles(graph)
      .filter((scc) => scc.some((f) => f.startsWith(REALTIME + path.sep)))
      .map((scc) => scc.map((f) => path.relative(SERVER, f)).sort());
    expect(throughRealtime).toEqual([]);
  });
});
