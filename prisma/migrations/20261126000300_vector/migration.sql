-- DB-7: blocks.vector (pgvector, 1536 dimensions) with a partial HNSW index for cosine
-- similarity. pgvector is optional: where the server lacks it this migration changes nothing
-- and succeeds, the app starts, /ready reports vector "unavailable" and search answers 503.
-- Because pgvector may be installed later, `npm run db:migrate` calls ensure_vector() after
-- every run (server/db/migrate.ts); it is idempotent.

-- Returns whether blocks.vector is usable. Everything that names the vector type is EXECUTEd so
-- that this function can be created, and run, on a server without pgvector.
CREATE OR REPLACE FUNCTION ensure_vector() RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
  vschema text;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector') THEN
    RETURN false;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'vector') THEN
    BEGIN
      CREATE EXTENSION vector;
    EXCEPTION WHEN insufficient_privilege THEN
      -- Not a reason to fail a deploy: the app runs without search until an admin installs it.
      RAISE WARNING 'pgvector is on the server but this role may not CREATE EXTENSION vector (%)', SQLERRM;
      RETURN false;
    END;
  END IF;
  -- The extension may live outside public (e.g. a dedicated "extensions" schema).
  SELECT n.nspname INTO vschema
    FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
   WHERE e.extname = 'vector';
  EXECUTE format('ALTER TABLE blocks ADD COLUMN IF NOT EXISTS vector %I.vector(1536)', vschema);
  -- WITH before WHERE. Only rows with an embedding are indexed; similarity queries must say
  -- `WHERE vector IS NOT NULL` for the planner to pick this partial index.
  EXECUTE format('CREATE INDEX IF NOT EXISTS blocks_vector_hnsw_idx ON blocks USING hnsw (vector %I.vector_cosine_ops) '
                 'WITH (m = 16, ef_construction = 128) WHERE vector IS NOT NULL', vschema);
  -- DB-8: embeddings of a legacy database upgraded while pgvector was missing (see
  -- 20261126000400_legacy_import) move in now.
  IF to_regprocedure('legacy_import_embeddings()') IS NOT NULL THEN
    EXECUTE 'SELECT legacy_import_embeddings()';
  END IF;
  RETURN true;
END $$;

SELECT ensure_vector();
