/**
 * WRK-1: what turns text into a vector for `blocks.vector` and for search queries (DB-7). Two
 * implementations behind this one interface: the offline provider (the default: pre-trained word
 * vectors shipped in an npm package, no network) and an OpenAI-compatible HTTP endpoint
 * (`EMBEDDING_URL`). Both return vectors of EMBEDDING_DIMS numbers, unit length (cosine distance).
 */
export const EMBEDDING_DIMS = 1536;

export interface EmbeddingProvider {
  /** "offline" or "http" (reported by /ready and /metrics). */
  readonly name: string;
  readonly dims: number;
  /** The vectors of `texts`, in order; throws when the provider fails (the caller retries). */
  embed(texts: readonly string[]): Promise<number[][]>;
}
