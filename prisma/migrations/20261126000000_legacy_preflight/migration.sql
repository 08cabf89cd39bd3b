-- DB-8, step 1 of 2 (step 2: 20261126000400_legacy_import). Runs first of all migrations.
--
-- A legacy database (the blueprint's layout, see docs/DATABASE.md: blocks.y_order numeric,
-- embeddings in "BlocksEmbeddings", not tracked in _prisma_migrations) already has tables,
-- indexes, sequences and functions under the names the init migration creates. Move all of
-- them out of the way into schema `legacy` so that the following migrations build the new
-- layout untouched; the import migration then copies the rows across and drops what it copied.
-- A schema rather than renamed tables: index, constraint and sequence names move with it, so
-- nothing collides. On a fresh (or already upgraded) database this does nothing.
DO $$
DECLARE
  r record;
BEGIN
  IF NOT EXISTS (
    SELECT 1 FROM information_schema.columns
     WHERE table_schema = 'public' AND table_name = 'blocks' AND column_name = 'y_order'
       AND data_type = 'numeric'
  ) THEN
    RETURN;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'legacy') THEN
    RAISE EXCEPTION 'legacy upgrade: schema "legacy" already exists; a previous upgrade left it behind, inspect and drop it first';
  END IF;
  RAISE NOTICE 'legacy layout found: moving it into schema legacy for import';
  CREATE SCHEMA legacy;

  -- Tables (partitions one by one: SET SCHEMA on a parent leaves them behind), views and the
  -- sequences they own. Extension members and Prisma's history table stay.
  FOR r IN
    SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
       AND c.relname <> '_prisma_migrations'
       AND NOT EXISTS (SELECT 1 FROM pg_depend d
                        WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
  LOOP
    EXECUTE format('ALTER %s public.%I SET SCHEMA legacy',
                   CASE r.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                                  WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END,
                   r.relname);
  END LOOP;

  -- Sequences still in public are standalone ones such as seq_block_events.
  FOR r IN
    SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND c.relkind = 'S'
       AND NOT EXISTS (SELECT 1 FROM pg_depend d
                        WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
  LOOP
    EXECUTE format('ALTER SEQUENCE public.%I SET SCHEMA legacy', r.relname);
  END LOOP;

  -- Functions: a legacy function of the same name with another signature or result type would
  -- break (or shadow) the CREATE OR REPLACE FUNCTIONs that follow. Triggers keep working: they
  -- point at the function, not at its name.
  FOR r IN
    SELECT p.oid::regprocedure AS sig FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname = 'public' AND p.prokind IN ('f', 'p')
       AND NOT EXISTS (SELECT 1 FROM pg_depend d
                        WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
  LOOP
    EXECUTE format('ALTER ROUTINE %s SET SCHEMA legacy', r.sig);
  END LOOP;

  -- Enums, domains and standalone composite types (a table's row type moved with its table).
  FOR r IN
    SELECT t.typname, t.typtype FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
     WHERE n.nspname = 'public'
       AND (t.typtype IN ('e', 'd')
            OR (t.typtype = 'c' AND (SELECT c.relkind FROM pg_class c WHERE c.oid = t.typrelid) = 'c'))
       AND NOT EXISTS (SELECT 1 FROM pg_depend d
                        WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')
  LOOP
    EXECUTE format('ALTER %s public.%I SET SCHEMA legacy',
                   CASE r.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, r.typname);
  END LOOP;
END $$;
