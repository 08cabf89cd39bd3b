import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import fc from "fast-check";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { between, MAX_KEY_LENGTH, spread } from "./lexorank";

// Differential test: the SQL mirror (lexo_between, lexo_spread) must give exactly the
// TypeScript answers, because the server computes the authoritative key in the transaction.
const MIGRATION = readFileSync(
  new URL("../../prisma/migrations/20261126000100_lexorank/migration.sql", import.meta.url),
  "utf8",
);

interface Backend {
  query<R>(text: string, params?: unknown[]): Promise<R[]>;
  exec(sql: string): Promise<void>;
  close(): Promise<void>;
}

async function openPglite(): Promise<Backend> {
  const db = new PGlite();
  return {
    query: async <R>(text: string, params?: unknown[]) => (await db.query<R>(text, params)).rows,
    exec: async (sql) => void (await db.exec(sql)),
    close: () => db.close(),
  };
}

/** A scratch database on the server named by DATABASE_URL, dropped on close. */
async function openPostgres(url: string): Promise<Backend> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  const name = `lexo_${randomUUID().replaceAll("-", "").slice(0, 16)}`;
  await admin.query(`CREATE DATABASE ${name}`);
  const scratch = new URL(url);
  scratch.pathname = `/${name}`;
  const client = new pg.Client({ connectionString: scratch.toString() });
  await client.connect();
  return {
    query: async <R>(text: string, params?: unknown[]) => (await client.query(text, params)).rows as R[],
    exec: async (sql) => void (await client.query(sql)),
    close: async () => {
      await client.end();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}

const DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz";
const SCALE = 36n ** 10n;

function value(key: string): bigint {
  let v = 0n;
  for (let i = 0; i < MAX_KEY_LENGTH; i++) v = v * 36n + BigInt(i < key.length ? DIGITS.indexOf(key[i]!) : 0);
  return v;
}

function keyOf(v: bigint): string {
  let out = "";
  for (let rest = v, i = 0; i < MAX_KEY_LENGTH; i++, rest /= 36n) out = DIGITS[Number(rest % 36n)]! + out;
  return out.replace(/0+$/, "");
}

type Bounds = [string | null, string | null];

const edgy = fc.constantFrom("0", "1", "h", "i", "y", "z");
const keyArb = fc
  .tuple(
    fc.string({ unit: fc.oneof(fc.constantFrom(...DIGITS), edgy), maxLength: MAX_KEY_LENGTH - 1 }),
    fc.oneof(fc.constantFrom(...DIGITS.slice(1)), edgy),
  )
  .map(([head, last]) => head + (last === "0" ? "1" : last));
// Neighbours a few units apart at 10 chars: the gaps that run out, and the null answers.
const tightArb = fc
  .tuple(keyArb, fc.integer({ min: 1, max: 80 }))
  .map(([k, d]) => [keyOf(value(k)), keyOf(value(k) + BigInt(d))] as const)
  .filter(([, b]) => value(b) < SCALE && b !== "");
const sortedPair = fc
  .tuple(keyArb, keyArb)
  .filter(([a, b]) => a !== b)
  .map(([a, b]): readonly [string, string] => (a < b ? [a, b] : [b, a]));
const prefixPair = keyArb.filter((k) => k.length < MAX_KEY_LENGTH).map((k) => [k, `${k}1`] as const);
const boundsArb: fc.Arbitrary<Bounds> = fc
  .tuple(fc.oneof(sortedPair, tightArb, prefixPair), fc.nat(9))
  .map(([[a, b], open]) => [open === 0 || open === 9 ? null : a, open === 1 || open === 9 ? null : b]);

const EDGES: Bounds[] = [
  [null, null],
  ["i", null],
  [null, "i"],
  ["z", null],
  [null, "1"],
  ["zzzzzzzzzz", null],
  [null, "0000000001"],
  ["zzzzzzzzzy", "zzzzzzzzzz"],
  ["0000000001", "0000000002"],
  ["x", "x000000001"],
  ["zzzzzzzzz", null],
  [null, "000000001"],
  ["a", "b"],
  ["i1", "i1i"],
];

const backends: [string, () => Promise<Backend>][] = [["PGlite", openPglite]];
const url = process.env.DATABASE_URL;
if (url) backends.push(["PostgreSQL (DATABASE_URL)", () => openPostgres(url)]);

describe.each(backends)("lexorank SQL mirror on %s", (_name, open) => {
  let db: Backend;

  beforeAll(async () => {
    db = await open();
    await db.exec(MIGRATION);
    // CREATE OR REPLACE throughout: re-running the migration is harmless.
    await db.exec(MIGRATION);
  });

  afterAll(async () => {
    await db?.close();
  });

  async function sqlBetween(pairs: readonly Bounds[]): Promise<(string | null)[]> {
    const rows = await db.query<{ k: string | null }>(
      `SELECT lexo_between(a, b) AS k
         FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS t(a, b, i) ORDER BY i`,
      [pairs.map((p) => p[0]), pairs.map((p) => p[1])],
    );
    return rows.map((r) => r.k);
  }

  async function sqlSpread(cases: readonly [number, string | null, string | null, number][]) {
    const rows = await db.query<{ keys: string[] | null }>(
      `SELECT lexo_spread(n, lo, hi, m) AS keys
         FROM unnest($1::int[], $2::text[], $3::text[], $4::int[]) WITH ORDINALITY AS t(n, lo, hi, m, i)
        ORDER BY i`,
      [cases.map((c) => c[0]), cases.map((c) => c[1]), cases.map((c) => c[2]), cases.map((c) => c[3])],
    );
    return rows.map((r) => r.keys);
  }

  it("LEX-1: lexo_between agrees with between() on the edge cases", async () => {
    expect(await sqlBetween(EDGES)).toEqual(EDGES.map(([a, b]) => between(a, b)));
  });

  it("LEX-1: lexo_between agrees with between() on thousands of random pairs", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(boundsArb, { minLength: 1, maxLength: 250 }), async (pairs) => {
        expect(await sqlBetween(pairs)).toEqual(pairs.map(([a, b]) => between(a, b)));
      }),
      { numRuns: 40 },
    );
  });

  it("LEX-2: 1,000 appends and prepends chained in SQL match the TypeScript chain", async () => {
    const rows = await db.query<{ up: string; down: string }>(
      `WITH RECURSIVE chain(n, up, down) AS (
         SELECT 0, 'i'::text, 'i'::text
         UNION ALL
         SELECT n + 1, lexo_between(up, NULL), lexo_between(NULL, down) FROM chain WHERE n < 1000
       )
       SELECT up, down FROM chain ORDER BY n`,
    );
    let up = "i";
    let down = "i";
    const expected = [{ up, down }];
    for (let i = 0; i < 1000; i++) {
      up = between(up, null)!;
      down = between(null, down)!;
      expected.push({ up, down });
    }
    expect(rows).toEqual(expected);
  });

  it("LEX-4: lexo_spread agrees with spread() on random counts and bounds", async () => {
    const count = fc.oneof(
      fc.integer({ min: 0, max: 5 }),
      fc.integer({ min: 0, max: 80 }),
      fc.constantFrom(35, 36, 37, 1295, 1296, 1297),
    );
    const caseArb = fc
      .tuple(count, boundsArb, fc.oneof(fc.constant(MAX_KEY_LENGTH), fc.integer({ min: 1, max: 10 })))
      .map(([n, [lo, hi], m]) => [n, lo, hi, m] as [number, string | null, string | null, number]);
    await fc.assert(
      fc.asyncProperty(fc.array(caseArb, { minLength: 1, maxLength: 60 }), async (cases) => {
        expect(await sqlSpread(cases)).toEqual(cases.map(([n, lo, hi, m]) => spread(n, lo, hi, m)));
      }),
      { numRuns: 40 },
    );
    const rows = await db.query<{ keys: string[] }>("SELECT lexo_spread(1000, NULL, NULL) AS keys");
    expect(rows[0]?.keys).toEqual(spread(1000, null, null));
  });

  it("LEX-1/LEX-4: both refuse invalid keys, out-of-order bounds and bad counts", async () => {
    const bad: [string, unknown[], () => unknown][] = [
      ["SELECT lexo_between($1, $2)", ["b", "a"], () => between("b", "a")],
      ["SELECT lexo_between($1, $2)", ["a", "a"], () => between("a", "a")],
      ["SELECT lexo_between($1, $2)", ["a0", null], () => between("a0", null)],
      ["SELECT lexo_between($1, $2)", [null, "A"], () => between(null, "A")],
      ["SELECT lexo_between($1, $2)", ["zzzzzzzzzzz", null], () => between("zzzzzzzzzzz", null)],
      ["SELECT lexo_between($1, $2)", ["", null], () => between("", null)],
      ["SELECT lexo_spread($1, $2, $3)", [-1, null, null], () => spread(-1, null, null)],
      ["SELECT lexo_spread($1, $2, $3)", [2, "c", "b"], () => spread(2, "c", "b")],
      ["SELECT lexo_spread($1, $2, $3, $4)", [2, null, null, 11], () => spread(2, null, null, 11)],
    ];
    for (const [text, params, ts] of bad) {
      expect(ts, JSON.stringify(params)).toThrow(RangeError);
      await expect(db.query(text, params), JSON.stringify(params)).rejects.toMatchObject({ code: "22023" });
    }
  });
});
