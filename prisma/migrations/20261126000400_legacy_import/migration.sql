-- DB-8, step 2 of 2 (step 1: 20261126000000_legacy_preflight moved a legacy layout into schema
-- `legacy`). Copies users, canvas, canvas_members and blocks into the new tables, turning the
-- numeric y_order into evenly spaced base-36 keys in the same document order per canvas, moves
-- every embedding of "BlocksEmbeddings" into blocks.vector, checks that no row was lost (RAISE,
-- so the whole migration rolls back) and drops the copied tables. On a database without a
-- legacy layout it only creates legacy_import_embeddings() (called by ensure_vector()).

-- Moves legacy."BlocksEmbeddings" into blocks.vector and drops it; returns how many moved.
-- Without pgvector the table waits in schema legacy: ensure_vector() calls this again once the
-- extension is there, so no embedding is lost in between.
CREATE OR REPLACE FUNCTION legacy_import_embeddings() RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  vschema text;
  expected bigint;
  moved bigint;
BEGIN
  IF to_regclass('legacy."BlocksEmbeddings"') IS NULL THEN
    RETURN 0;
  END IF;
  SELECT n.nspname INTO vschema
    FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
   WHERE e.extname = 'vector';
  IF vschema IS NULL OR NOT EXISTS (
    SELECT 1 FROM pg_attribute WHERE attrelid = 'public.blocks'::regclass AND attname = 'vector' AND NOT attisdropped
  ) THEN
    RAISE NOTICE 'pgvector unavailable: legacy embeddings stay in legacy."BlocksEmbeddings" until it is installed and db:migrate runs again';
    RETURN 0;
  END IF;
  SELECT count(*) INTO expected FROM legacy."BlocksEmbeddings" WHERE embedding IS NOT NULL;
  -- Casts from vector, real[] or double precision[] alike; a wrong dimension raises.
  EXECUTE format('UPDATE public.blocks b SET vector = e.embedding::%I.vector(1536) '
                 'FROM legacy."BlocksEmbeddings" e WHERE e.block_id = b.block_id AND e.embedding IS NOT NULL',
                 vschema);
  GET DIAGNOSTICS moved = ROW_COUNT;
  IF moved <> expected THEN
    RAISE EXCEPTION 'legacy import: % of % embeddings have no block to move to', expected - moved, expected;
  END IF;
  DROP TABLE legacy."BlocksEmbeddings";
  PERFORM legacy_drop_if_empty();
  RETURN moved;
END $$;

-- Drops schema legacy (with the legacy functions, types and sequences in it) once no table is
-- left in it. Tables this import does not copy (e.g. a legacy op log or audit) are kept there.
CREATE OR REPLACE FUNCTION legacy_drop_if_empty() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  kept text;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'legacy') THEN
    RETURN;
  END IF;
  SELECT string_agg(c.relname, ', ' ORDER BY c.relname) INTO kept
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = 'legacy' AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition;
  IF kept IS NULL THEN
    DROP SCHEMA legacy CASCADE;
  ELSE
    RAISE NOTICE 'legacy upgrade: kept in schema legacy (not imported): %', kept;
  END IF;
END $$;

-- Copies legacy.<tbl> into public.<tbl>: every column both have (cast to the new type) plus
-- `exprs` (column -> SQL over the source row `l`) for columns that need converting; `source`
-- replaces the legacy table as the row source. Raises unless every legacy row arrived.
CREATE OR REPLACE FUNCTION pg_temp.legacy_copy(tbl text, exprs jsonb DEFAULT '{}', source text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  cols text;
  vals text;
  n_src bigint;
  n_new bigint;
BEGIN
  SELECT string_agg(quote_ident(c.attname), ', ' ORDER BY c.attnum),
         string_agg(coalesce(exprs ->> c.attname::text,
                             format('l.%I::%s', c.attname, format_type(c.atttypid, c.atttypmod))),
                    ', ' ORDER BY c.attnum)
    INTO cols, vals
    FROM pg_attribute c
   WHERE c.attrelid = format('public.%I', tbl)::regclass AND c.attnum > 0 AND NOT c.attisdropped
     AND c.attidentity <> 'a' AND c.attgenerated = ''
     AND (exprs ? c.attname::text OR EXISTS (
           SELECT 1 FROM pg_attribute o
            WHERE o.attrelid = format('legacy.%I', tbl)::regclass AND o.attname = c.attname
              AND o.attnum > 0 AND NOT o.attisdropped));
  EXECUTE format('SELECT count(*) FROM legacy.%I', tbl) INTO n_src;
  EXECUTE format('INSERT INTO public.%I (%s) SELECT %s FROM %s l', tbl, cols, vals,
                 coalesce(source, format('legacy.%I', tbl)));
  GET DIAGNOSTICS n_new = ROW_COUNT;
  IF n_new <> n_src THEN
    RAISE EXCEPTION 'legacy import: % rows of legacy.% would be lost', n_src - n_new, tbl;
  END IF;
  RAISE NOTICE 'legacy import: % rows of %', n_new, tbl;
  RETURN n_new;
END $$;

DO $$
DECLARE
  v_last bigint;
  v_called boolean;
BEGIN
  IF to_regclass('legacy.blocks') IS NULL THEN
    RETURN;
  END IF;
  IF to_regprocedure('lexo_spread(integer,text,text,integer)') IS NULL THEN
    RAISE EXCEPTION 'legacy import needs lexo_spread(n, lo, hi, max_len) from migration 20261126000100_lexorank';
  END IF;

  PERFORM pg_temp.legacy_copy('users', jsonb_build_object('email', 'lower(l.email)'));
  PERFORM pg_temp.legacy_copy('canvas', jsonb_build_object('settings', $q$coalesce(l.settings::jsonb, '{}')$q$));
  PERFORM pg_temp.legacy_copy('canvas_members');

  -- Document order per canvas: numeric y_order (ties, which a unique key forbids anyway, by
  -- creation), then spread evenly over the whole key space at the shortest length.
  CREATE TEMP TABLE legacy_block_keys ON COMMIT DROP AS
    WITH ordered AS (
      SELECT canvas_id, array_agg(block_id ORDER BY y_order NULLS LAST, created_at, block_id) AS ids
        FROM legacy.blocks GROUP BY canvas_id
    ), keyed AS (
      SELECT canvas_id, ids, lexo_spread(cardinality(ids), NULL, NULL) AS keys FROM ordered
    )
    SELECT u.block_id, u.y_key FROM keyed, unnest(keyed.ids, keyed.keys) AS u(block_id, y_key);
  IF EXISTS (SELECT 1 FROM legacy_block_keys WHERE y_key IS NULL) THEN
    RAISE EXCEPTION 'legacy import: a canvas has more blocks than 10-character keys can order';
  END IF;
  PERFORM pg_temp.legacy_copy('blocks',
    jsonb_build_object('y_order', 'l.y_key', 'content', $q$coalesce(l.content, '')$q$,
                       'props', $q$coalesce(l.props::jsonb, '{}')$q$),
    '(SELECT b.*, k.y_key FROM legacy.blocks b JOIN legacy_block_keys k USING (block_id))');

  -- DB-3: server_seq stays monotonic across the upgrade.
  IF to_regclass('legacy.seq_block_events') IS NOT NULL THEN
    EXECUTE 'SELECT last_value, is_called FROM legacy.seq_block_events' INTO v_last, v_called;
    PERFORM setval('public.seq_block_events', v_last, v_called);
  END IF;

  PERFORM legacy_import_embeddings();
  -- CASCADE drops only foreign keys that kept legacy tables (and a waiting "BlocksEmbeddings")
  -- point at these.
  DROP TABLE legacy.blocks, legacy.canvas_members, legacy.canvas, legacy.users CASCADE;
  PERFORM legacy_drop_if_empty();
END $$;
