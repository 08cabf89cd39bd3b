import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "../..");

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sources(full);
    return /\.tsx?$/.test(name) && !/\.(test|int\.test|contract)\.ts$/.test(name) ? [full] : [];
  });
}

const specifiers = (file: string) =>
  [...readFileSync(file, "utf8").matchAll(/(?:import|export)\s[^'"]*?from\s+["']([^'"]+)["']/g)].map(
    (m) => m[1]!,
  );

describe("one protocol module (issue 10, RT-1..10)", () => {
  it("RT-9: server/protocol imports only zod and itself, so both sides can import it", () => {
    const foreign = sources(HERE).flatMap((file) =>
      specifiers(file)
        .filter((s) => s !== "zod" && !s.startsWith("./"))
        .map((s) => `${path.relative(ROOT, file)} imports ${s}`),
    );
    expect(foreign).toEqual([]);
  });

  it("RT-9: the client hard-codes no close code, procedure path or frame shape of the protocol", () => {
    const lib = path.join(ROOT, "src/lib");
    const copies = sources(lib).flatMap((file) => {
      const text = readFileSync(file, "utf8")
        .split("\n")
        .filter((line) => !/^\s*(\*|\/\/|\/\*)/.test(line));
      return text
        .filter((line) =>
          /"sync\.(events|mutate|presence|leave)"|\b(440[1-9]|4429|1008|1011)\b|"result":\{"type"/.test(line),
        )
        .map((line) => `${path.relative(ROOT, file)}: ${line.trim()}`);
    });
    expect(copies).toEqual([]);
  });
});
