/**
 * pgvector support (DB-7). `blocks.vector` exists only where the server has pgvector (always in
 * PGlite); everything that reads or writes it asks `vectorAvailable` first, and search answers
 * 503 / `/ready` reports `vector: "unavailable"` otherwise.
 */
import type { SqlClient } from "./sql";

/** Dimensions of blocks.vector (the embedding model's, text-embedding-3-small). */
export const VECTOR_DIMENSIONS = 1536;

/** Whether the vector extension is installed and blocks.vector exists (migrate's ensure step ran). */
export async function vectorAvailable(db: SqlClient): Promise<boolean> {
  const [row] = await db.query<{ ok: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'vector')
        AND EXISTS (SELECT 1 FROM pg_attribute
                     WHERE attrelid = to_regclass('blocks') AND attname = 'vector' AND NOT attisdropped) AS ok`,
  );
  return row?.ok === true;
}

/**
 * The text form pgvector parses (`'[0.1,0.2,…]'`), to pass as a parameter cast with `::vector`.
 * Similarity queries must also say `WHERE vector IS NOT NULL`, or the planner cannot use the
 * partial HNSW index: `ORDER BY vector <=> $1::vector LIMIT k`.
 */
export function vectorLiteral(values: readonly number[]): string {
  if (values.length !== VECTOR_DIMENSIONS) {
    throw new RangeError(`expected ${VECTOR_DIMENSIONS} dimensions, got ${values.length}`);
  }
  for (const v of values) {
    if (!Number.isFinite(v)) throw new RangeError("vector components must be finite numbers");
  }
  return `[${values.join(",")}]`;
}
