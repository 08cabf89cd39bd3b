-- POTENTIA schema (SPEC §1, DB-1..6). Table names are the SPEC's; Prisma maps them with @@map.

-- DB-3: one global, monotonic source of server_seq.
CREATE SEQUENCE seq_block_events AS bigint START 1 NO CYCLE;

CREATE TABLE users (
  user_id       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email         text NOT NULL CHECK (email = lower(email) AND char_length(email) BETWEEN 3 AND 320),
  name          text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
  password_hash text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (email);

CREATE TABLE canvas (
  canvas_id  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  title      text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
  settings   jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(settings) = 'object'),
  owner_id   uuid NOT NULL REFERENCES users (user_id),
  -- server_seq of the last applied op of this canvas: the next op's prev_seq (RT-3).
  last_seq   bigint,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  -- Soft delete (A7): invisible at once, purged by the cleanup worker after retention.
  deleted_at timestamptz
);
CREATE INDEX canvas_owner_idx ON canvas (owner_id);

CREATE TABLE canvas_members (
  canvas_id      uuid NOT NULL REFERENCES canvas (canvas_id) ON DELETE CASCADE,
  user_id        uuid NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
  role           text NOT NULL CHECK (role IN ('owner', 'writer', 'reader')),
  last_active_at timestamptz,
  created_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (canvas_id, user_id)
);
CREATE INDEX canvas_members_user_idx ON canvas_members (user_id);

CREATE TABLE blocks (
  block_id       uuid PRIMARY KEY,
  canvas_id      uuid NOT NULL REFERENCES canvas (canvas_id) ON DELETE CASCADE,
  parent_id      uuid REFERENCES blocks (block_id) ON DELETE CASCADE,
  type           text NOT NULL CHECK (type IN ('text', 'heading', 'todo', 'code', 'quote', 'divider')),
  content        text NOT NULL DEFAULT '' CHECK (char_length(content) <= 100000),
  props          jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(props) = 'object'),
  -- LEX-0/LEX-2: document order is the byte order of y_order; NULL once the block is deleted,
  -- so a deleted block never holds a key a live one needs.
  y_order        text COLLATE "C" CHECK (y_order ~ '^[0-9a-z]{1,10}$'),
  version        integer NOT NULL DEFAULT 1 CHECK (version >= 1),
  -- MUT-4: the block version at which each field last changed ({"content": 3, ...}).
  field_versions jsonb NOT NULL DEFAULT '{}'::jsonb,
  deleted_at     timestamptz,
  created_at     timestamptz NOT NULL DEFAULT now(),
  created_by     uuid REFERENCES users (user_id) ON DELETE SET NULL,
  updated_at     timestamptz NOT NULL DEFAULT now(),
  updated_by     uuid REFERENCES users (user_id) ON DELETE SET NULL,
  CONSTRAINT blocks_live_has_order CHECK ((deleted_at IS NULL) = (y_order IS NOT NULL)),
  -- DB-2: deferred so that re-keying (LEX-4) may pass through transient duplicates.
  CONSTRAINT blocks_canvas_y_order_key UNIQUE (canvas_id, y_order) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX blocks_parent_idx ON blocks (parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX blocks_canvas_live_order_idx ON blocks (canvas_id, y_order) WHERE deleted_at IS NULL;

-- DB-4: every applied, conflicting and failed op, with its payload. No FK to blocks: the log
-- outlives block deletes (deletes must replay, RT-5); it goes only with its canvas.
CREATE TABLE block_operations (
  server_seq   bigint PRIMARY KEY,
  prev_seq     bigint,
  canvas_id    uuid NOT NULL REFERENCES canvas (canvas_id) ON DELETE CASCADE,
  block_id     uuid NOT NULL,
  client_op_id uuid NOT NULL,
  user_id      uuid REFERENCES users (user_id) ON DELETE SET NULL,
  action       text NOT NULL CHECK (action IN ('create', 'update', 'delete')),
  status       text NOT NULL CHECK (status IN ('success', 'conflict', 'failed')),
  base_version integer,
  version      integer,
  payload      jsonb NOT NULL,
  payload_hash text NOT NULL,
  -- The text op as applied (transformed, MUT-5); the history later text ops transform over.
  text_op      jsonb,
  -- True when the op replaced content wholesale: later stale text ops cannot merge over it.
  content_set  boolean NOT NULL DEFAULT false,
  -- The result as first returned (MUT-3 replays return it again).
  result       jsonb NOT NULL,
  error        jsonb,
  created_at   timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT block_operations_client_op_block_key UNIQUE (client_op_id, block_id)
);
CREATE INDEX block_operations_replay_idx ON block_operations (canvas_id, server_seq) WHERE status = 'success';
CREATE INDEX block_operations_block_history_idx ON block_operations (block_id, version) WHERE status = 'success';
-- Pruning by age (WRK-3) scans a BRIN index: rows arrive in time order and it costs the hot
-- insert path almost nothing.
CREATE INDEX block_operations_created_idx ON block_operations USING brin (created_at);

-- DB-5: append-only audit, partitioned by month.
CREATE SEQUENCE system_audit_audit_id_seq AS bigint;
CREATE TABLE system_audit (
  audit_id      bigint NOT NULL DEFAULT nextval('system_audit_audit_id_seq'),
  created_at    timestamptz NOT NULL DEFAULT now(),
  actor_id      uuid,
  canvas_id     uuid,
  action        text NOT NULL,
  target_id     text,
  status        text NOT NULL,
  ip            text,
  user_agent    text,
  latency_ms    double precision,
  affected_rows integer,
  detail        jsonb NOT NULL DEFAULT '{}'::jsonb,
  PRIMARY KEY (audit_id, created_at)
) PARTITION BY RANGE (created_at);
ALTER SEQUENCE system_audit_audit_id_seq OWNED BY system_audit.audit_id;
CREATE INDEX system_audit_canvas_idx ON system_audit (canvas_id, created_at);
CREATE INDEX system_audit_actor_idx ON system_audit (actor_id, created_at);

-- Creates the monthly partitions from the current month to `months_ahead` months ahead.
-- Called by this migration, by every `db:migrate` and by the cleanup worker (WRK-3).
CREATE OR REPLACE FUNCTION ensure_audit_partitions(months_ahead integer DEFAULT 3) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  first_month date := date_trunc('month', now())::date;
  m date;
  part text;
  created integer := 0;
BEGIN
  FOR i IN 0..months_ahead LOOP
    m := (first_month + make_interval(months => i))::date;
    part := format('system_audit_y%sm%s', to_char(m, 'YYYY'), to_char(m, 'MM'));
    IF to_regclass(part) IS NULL THEN
      EXECUTE format('CREATE TABLE %I PARTITION OF system_audit FOR VALUES FROM (%L) TO (%L)',
                     part, m, (m + interval '1 month')::date);
      created := created + 1;
    END IF;
  END LOOP;
  RETURN created;
END $$;
SELECT ensure_audit_partitions(3);

-- DB-5: nobody updates or deletes audit rows through DML (retention drops whole partitions).
CREATE OR REPLACE FUNCTION system_audit_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'system_audit is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER system_audit_no_update_delete BEFORE UPDATE OR DELETE ON system_audit
  FOR EACH ROW EXECUTE FUNCTION system_audit_refuse_change();
CREATE TRIGGER system_audit_no_truncate BEFORE TRUNCATE ON system_audit
  FOR EACH STATEMENT EXECUTE FUNCTION system_audit_refuse_change();

CREATE TABLE refresh_tokens (
  token_id    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id     uuid NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
  family_id   uuid NOT NULL,
  token_hash  text NOT NULL,
  expires_at  timestamptz NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  used_at     timestamptz,
  revoked_at  timestamptz,
  replaced_by uuid
);
CREATE UNIQUE INDEX refresh_tokens_hash_key ON refresh_tokens (token_hash);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);

-- MUT-7: fixed-window request counters for the in-database rate limit. Unlogged: losing a
-- counter in a crash only forgives a few requests.
CREATE UNLOGGED TABLE rpc_rate_limits (
  user_id      uuid NOT NULL,
  window_start timestamptz NOT NULL,
  count        integer NOT NULL,
  PRIMARY KEY (user_id, window_start)
);

-- DB-6: ask the rebalance worker to re-key a canvas whose keys grow long.
CREATE OR REPLACE FUNCTION blocks_notify_rebalance() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.y_order IS NOT NULL AND char_length(NEW.y_order) > 8 THEN
    PERFORM pg_notify('rebalance_needed', NEW.canvas_id::text);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER blocks_rebalance_needed AFTER INSERT OR UPDATE OF y_order ON blocks
  FOR EACH ROW EXECUTE FUNCTION blocks_notify_rebalance();
