-- The mutation core (SPEC §2, MUT-1..8; LEX-1, LEX-3, LEX-4 in-transaction re-keying).
-- Entry points: rpc_upsert_block_atomic (one op) and rpc_mutate_batch (a group commit of many
-- requests of one canvas). Both lock the canvas row first: within a canvas, transactions run
-- one after another, so server_seq order is commit order (DB-3).

-- The JSON shape of a block in results and events.
CREATE OR REPLACE FUNCTION block_json(b blocks) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'block_id', b.block_id, 'canvas_id', b.canvas_id, 'parent_id', b.parent_id, 'type', b.type,
    'content', b.content, 'props', b.props, 'y_order', b.y_order, 'version', b.version,
    'created_at', b.created_at, 'created_by', b.created_by,
    'updated_at', b.updated_at, 'updated_by', b.updated_by)
$$;

-- Version at which `field` last changed (every field exists since version 1).
CREATE OR REPLACE FUNCTION block_field_version(b blocks, field text) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$ SELECT coalesce((b.field_versions ->> field)::integer, 1) $$;

-- The block as it was at `v` (from the op log), or NULL when no longer known.
CREATE OR REPLACE FUNCTION block_at_version(p_block uuid, v integer) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT result -> 'block' FROM block_operations
   WHERE block_id = p_block AND version = v AND status = 'success' AND result -> 'block' <> 'null'::jsonb
   ORDER BY server_seq DESC LIMIT 1
$$;

-- Appends an applied op to the log, advances the canvas's prev_seq chain and returns
-- { result, event }.
CREATE OR REPLACE FUNCTION potentia_log_applied(
  p_canvas uuid, p_seq bigint, p_block uuid, p_client_op uuid, p_user uuid, p_action text,
  p_base integer, p_version integer, p_payload jsonb, p_block_json jsonb, p_text_op jsonb,
  p_content_set boolean
) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  v_prev bigint := potentia_chain_advance(p_canvas, p_seq);
  v_result jsonb;
BEGIN
  v_result := jsonb_build_object(
    'client_op_id', p_client_op, 'block_id', p_block, 'status', 'success', 'server_seq', p_seq,
    'version', p_version, 'block', p_block_json);
  IF p_text_op IS NOT NULL THEN
    v_result := v_result || jsonb_build_object('text_op', p_text_op);
  END IF;
  INSERT INTO block_operations (server_seq, prev_seq, canvas_id, block_id, client_op_id, user_id, action,
                                status, base_version, version, payload, payload_hash, text_op,
                                content_set, result)
  VALUES (p_seq, v_prev, p_canvas, p_block, p_client_op, p_user, p_action, 'success', p_base, p_version,
          p_payload, md5(p_payload::text), p_text_op, p_content_set, v_result);
  RETURN jsonb_build_object('result', v_result, 'event', jsonb_build_object(
    'type', 'op', 'server_seq', p_seq, 'prev_seq', v_prev, 'client_op_id', p_client_op,
    'user_id', p_user, 'action', p_action, 'block_id', p_block, 'block', p_block_json,
    'text_op', p_text_op));
END $$;

-- Logs a conflicting or failed op (status <> success) and returns its result.
CREATE OR REPLACE FUNCTION potentia_log_unapplied(
  p_canvas uuid, p_seq bigint, p_block uuid, p_client_op uuid, p_user uuid, p_action text,
  p_base integer, p_payload jsonb, p_status text, p_version integer, p_block_json jsonb,
  p_conflict jsonb, p_error jsonb
) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  v_result jsonb := jsonb_build_object(
    'client_op_id', p_client_op, 'block_id', p_block, 'status', p_status, 'server_seq', p_seq,
    'version', p_version, 'block', p_block_json);
BEGIN
  IF p_conflict IS NOT NULL THEN v_result := v_result || jsonb_build_object('conflict', p_conflict); END IF;
  IF p_error IS NOT NULL THEN v_result := v_result || jsonb_build_object('error', p_error); END IF;
  INSERT INTO block_operations (server_seq, canvas_id, block_id, client_op_id, user_id, action, status,
                                base_version, version, payload, payload_hash, result, error)
  VALUES (p_seq, p_canvas, p_block, p_client_op, p_user, p_action, p_status, p_base, p_version,
          p_payload, md5(p_payload::text), v_result, p_error);
  RETURN v_result;
END $$;

-- LEX-1/LEX-3/LEX-4: the key for `p_self` placed after `p_after` and/or before `p_before`
-- (block ids; both NULL = at the end), never touching p_self's own key. When no key of at most
-- 10 characters fits the gap, a window of neighbours around it is re-keyed, doubling the window
-- until evenly spaced keys fit. Returns the new key for p_self plus one row per re-keyed
-- neighbour (rekeyed = true); raises 'invalid_position' for unknown or inverted neighbours.
CREATE OR REPLACE FUNCTION potentia_place(p_canvas uuid, p_self uuid, p_after uuid, p_before uuid)
RETURNS TABLE (block_id uuid, y_order text, rekeyed boolean)
LANGUAGE plpgsql AS $$
DECLARE
  a text;
  b text;
  k text;
  w integer := 4;
  left_ids uuid[];
  left_keys text[];
  right_ids uuid[];
  right_keys text[];
  lo text;
  hi text;
  keys text[];
  nl integer;
  nr integer;
BEGIN
  IF p_after IS NOT NULL THEN
    SELECT x.y_order INTO a FROM blocks x
     WHERE x.block_id = p_after AND x.canvas_id = p_canvas AND x.deleted_at IS NULL AND x.block_id <> p_self;
    IF a IS NULL THEN RAISE EXCEPTION 'position.after is not a live block of this canvas' USING ERRCODE = 'P0001', HINT = 'invalid_position'; END IF;
  END IF;
  IF p_before IS NOT NULL THEN
    SELECT x.y_order INTO b FROM blocks x
     WHERE x.block_id = p_before AND x.canvas_id = p_canvas AND x.deleted_at IS NULL AND x.block_id <> p_self;
    IF b IS NULL THEN RAISE EXCEPTION 'position.before is not a live block of this canvas' USING ERRCODE = 'P0001', HINT = 'invalid_position'; END IF;
  END IF;
  IF p_after IS NOT NULL AND p_before IS NULL THEN
    SELECT min(x.y_order) INTO b FROM blocks x
     WHERE x.canvas_id = p_canvas AND x.deleted_at IS NULL AND x.y_order > a AND x.block_id <> p_self;
  ELSIF p_before IS NOT NULL AND p_after IS NULL THEN
    SELECT max(x.y_order) INTO a FROM blocks x
     WHERE x.canvas_id = p_canvas AND x.deleted_at IS NULL AND x.y_order < b AND x.block_id <> p_self;
  ELSIF p_after IS NOT NULL AND p_before IS NOT NULL THEN
    -- LEX-3: others may have inserted into this gap since the client looked: take the slot
    -- right after `after`, so concurrent inserts into one gap get distinct keys.
    SELECT least(b, min(x.y_order)) INTO b FROM blocks x
     WHERE x.canvas_id = p_canvas AND x.deleted_at IS NULL AND x.y_order > a AND x.block_id <> p_self;
  ELSIF p_after IS NULL AND p_before IS NULL THEN
    SELECT max(x.y_order) INTO a FROM blocks x
     WHERE x.canvas_id = p_canvas AND x.deleted_at IS NULL AND x.block_id <> p_self;
  END IF;
  IF a IS NOT NULL AND b IS NOT NULL AND a >= b THEN
    RAISE EXCEPTION 'position.after must come before position.before' USING ERRCODE = 'P0001', HINT = 'invalid_position';
  END IF;

  k := lexo_between(a, b);
  IF k IS NOT NULL THEN
    RETURN QUERY SELECT p_self, k, false;
    RETURN;
  END IF;

  -- The gap is used up: spread a growing window of neighbours (LEX-4 on a small window).
  LOOP
    SELECT coalesce(array_agg(s.block_id ORDER BY s.y_order), '{}'), coalesce(array_agg(s.y_order ORDER BY s.y_order), '{}')
      INTO left_ids, left_keys
      FROM (SELECT x.block_id, x.y_order FROM blocks x
             WHERE x.canvas_id = p_canvas AND x.deleted_at IS NULL AND x.block_id <> p_self AND a IS NOT NULL AND x.y_order <= a
             ORDER BY x.y_order DESC LIMIT w) s;
    SELECT coalesce(array_agg(s.block_id ORDER BY s.y_order), '{}'), coalesce(array_agg(s.y_order ORDER BY s.y_order), '{}')
      INTO right_ids, right_keys
      FROM (SELECT x.block_id, x.y_order FROM blocks x
             WHERE x.canvas_id = p_canvas AND x.deleted_at IS NULL AND x.block_id <> p_self AND b IS NOT NULL AND x.y_order >= b
             ORDER BY x.y_order LIMIT w) s;
    nl := coalesce(array_length(left_ids, 1), 0);
    nr := coalesce(array_length(right_ids, 1), 0);
    lo := NULL;
    hi := NULL;
    IF nl > 0 THEN
      SELECT max(x.y_order) INTO lo FROM blocks x
       WHERE x.canvas_id = p_canvas AND x.deleted_at IS NULL AND x.block_id <> p_self AND x.y_order < left_keys[1];
    END IF;
    IF nr > 0 THEN
      SELECT min(x.y_order) INTO hi FROM blocks x
       WHERE x.canvas_id = p_canvas AND x.deleted_at IS NULL AND x.block_id <> p_self AND x.y_order > right_keys[nr];
    END IF;
    keys := lexo_spread(nl + nr + 1, lo, hi);
    EXIT WHEN keys IS NOT NULL;
    IF lo IS NULL AND hi IS NULL THEN
      RAISE EXCEPTION 'no key space left in canvas %', p_canvas;
    END IF;
    w := w * 2;
  END LOOP;

  FOR i IN 1..nl LOOP
    IF keys[i] <> left_keys[i] THEN
      RETURN QUERY SELECT left_ids[i], keys[i], true;
    END IF;
  END LOOP;
  FOR i IN 1..nr LOOP
    IF keys[nl + 1 + i] <> right_keys[i] THEN
      RETURN QUERY SELECT right_ids[i], keys[nl + 1 + i], true;
    END IF;
  END LOOP;
  RETURN QUERY SELECT p_self, keys[nl + 1], false;
END $$;

-- Writes the keys chosen by potentia_place for re-keyed neighbours: each is an applied system op
-- (user_id NULL, its own server_seq, version + 1, no field_versions change so it never makes
-- another op conflict — MUT-4 counts a changed order, not a changed key). Returns the events.
CREATE OR REPLACE FUNCTION potentia_apply_rekeys(p_canvas uuid, p_rekeys jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  r record;
  v_seq bigint;
  v_row blocks;
  v_logged jsonb;
  v_events jsonb := '[]'::jsonb;
BEGIN
  FOR r IN SELECT (e ->> 'block_id')::uuid AS block_id, e ->> 'y_order' AS y_order
             FROM jsonb_array_elements(p_rekeys) e LOOP
    v_seq := nextval('seq_block_events');
    UPDATE blocks SET y_order = r.y_order, version = version + 1
     WHERE block_id = r.block_id RETURNING * INTO v_row;
    v_logged := potentia_log_applied(p_canvas, v_seq, r.block_id, gen_random_uuid(), NULL, 'update',
                                     v_row.version - 1, v_row.version,
                                     jsonb_build_object('action', 'update', 'rekey', r.y_order),
                                     block_json(v_row), NULL, false);
    v_events := v_events || jsonb_build_array(v_logged -> 'event');
  END LOOP;
  RETURN v_events;
END $$;

-- Places p_self and applies any neighbour re-keying; returns { y_order, events }.
CREATE OR REPLACE FUNCTION potentia_place_and_rekey(p_canvas uuid, p_self uuid, p_position jsonb)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  v_key text;
  v_rekeys jsonb;
BEGIN
  SELECT max(p.y_order) FILTER (WHERE NOT p.rekeyed),
         coalesce(jsonb_agg(jsonb_build_object('block_id', p.block_id, 'y_order', p.y_order)) FILTER (WHERE p.rekeyed), '[]')
    INTO v_key, v_rekeys
    FROM potentia_place(p_canvas, p_self, (p_position ->> 'after')::uuid, (p_position ->> 'before')::uuid) p;
  RETURN jsonb_build_object('y_order', v_key, 'events', potentia_apply_rekeys(p_canvas, v_rekeys));
END $$;

-- The decision and the write of one op, inside the caller's subtransaction. Returns
-- { result, events } or { rebase_needed: true } (a text op whose rebase is stale: nothing written).
CREATE OR REPLACE FUNCTION potentia_apply_op(p_canvas uuid, p_user uuid, p_op jsonb, p_payload jsonb)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  v_action text := p_op ->> 'action';
  v_block_id uuid := (p_op ->> 'block_id')::uuid;
  v_client_op uuid := (p_op ->> 'client_op_id')::uuid;
  v_base integer := (p_op ->> 'base_version')::integer;
  v_row blocks;
  v_seq bigint;
  v_placed jsonb;
  v_events jsonb := '[]'::jsonb;
  v_logged jsonb;
  v_fields jsonb := '[]'::jsonb;
  v_field text;
  v_base_block jsonb;
  v_fv jsonb;
  v_rebase jsonb := p_op -> 'text_rebase';
  v_parent uuid;
  v_content_set boolean := p_op ? 'content';
  d record;
BEGIN
  IF v_action = 'create' THEN
    PERFORM 1 FROM blocks WHERE block_id = v_block_id;
    IF FOUND THEN
      v_seq := nextval('seq_block_events');
      RETURN jsonb_build_object('result', potentia_log_unapplied(p_canvas, v_seq, v_block_id, v_client_op, p_user,
        v_action, NULL, p_payload, 'failed', NULL, NULL, NULL,
        jsonb_build_object('code', 'exists', 'message', 'a block with this block_id already exists')));
    END IF;
    v_parent := (p_op ->> 'parent_id')::uuid;
    IF v_parent IS NOT NULL THEN
      PERFORM 1 FROM blocks WHERE block_id = v_parent AND canvas_id = p_canvas AND deleted_at IS NULL;
      IF NOT FOUND THEN
        RAISE EXCEPTION 'parent_id is not a live block of this canvas' USING ERRCODE = 'P0001', HINT = 'invalid_op';
      END IF;
    END IF;
    v_placed := potentia_place_and_rekey(p_canvas, v_block_id, coalesce(p_op -> 'position', '{}'::jsonb));
    v_events := v_placed -> 'events';
    v_seq := nextval('seq_block_events');
    INSERT INTO blocks (block_id, canvas_id, parent_id, type, content, props, y_order, version,
                        created_by, updated_by)
    VALUES (v_block_id, p_canvas, v_parent, p_op ->> 'type', coalesce(p_op ->> 'content', ''),
            coalesce(p_op -> 'props', '{}'::jsonb), v_placed ->> 'y_order', 1, p_user, p_user)
    RETURNING * INTO v_row;
    v_logged := potentia_log_applied(p_canvas, v_seq, v_block_id, v_client_op, p_user, 'create', NULL, 1,
                                     p_payload, block_json(v_row), NULL, true);
    RETURN jsonb_build_object('result', v_logged -> 'result', 'events', v_events || jsonb_build_array(v_logged -> 'event'));
  END IF;

  -- update / delete
  SELECT * INTO v_row FROM blocks WHERE block_id = v_block_id AND canvas_id = p_canvas FOR UPDATE;
  IF NOT FOUND THEN
    v_seq := nextval('seq_block_events');
    RETURN jsonb_build_object('result', potentia_log_unapplied(p_canvas, v_seq, v_block_id, v_client_op, p_user,
      v_action, v_base, p_payload, 'failed', NULL, NULL, NULL,
      jsonb_build_object('code', 'not_found', 'message', 'no such block in this canvas')));
  END IF;
  IF v_row.deleted_at IS NOT NULL THEN
    v_seq := nextval('seq_block_events');
    RETURN jsonb_build_object('result', potentia_log_unapplied(p_canvas, v_seq, v_block_id, v_client_op, p_user,
      v_action, v_base, p_payload, 'conflict', v_row.version, NULL,
      jsonb_build_object('reason', 'deleted', 'fields', '[]'::jsonb), NULL));
  END IF;
  IF v_base IS NULL OR v_base < 1 OR v_base > v_row.version THEN
    RAISE EXCEPTION 'base_version must be between 1 and the block''s version (%)', v_row.version
      USING ERRCODE = 'P0001', HINT = 'invalid_op';
  END IF;

  -- MUT-4: field-level staleness. A delete touches every field.
  IF v_base < v_row.version THEN
    FOREACH v_field IN ARRAY ARRAY['content', 'props', 'type', 'parent_id', 'position'] LOOP
      CONTINUE WHEN v_action = 'update' AND NOT (p_op ? v_field)
                    AND NOT (v_field = 'content' AND p_op ? 'text_op');
      -- A text op merges over other text ops (MUT-5); only a wholesale content change stops it.
      IF v_field = 'content' AND v_action = 'update' AND NOT (p_op ? 'content') THEN
        CONTINUE WHEN block_field_version(v_row, 'content_set') <= v_base;
      ELSE
        CONTINUE WHEN block_field_version(v_row, v_field) <= v_base;
      END IF;
      IF v_base_block IS NULL THEN v_base_block := coalesce(block_at_version(v_block_id, v_base), '{}'::jsonb); END IF;
      v_fields := v_fields || jsonb_build_array(jsonb_build_object(
        'field', v_field,
        'base', CASE WHEN v_field = 'position' THEN v_base_block -> 'y_order' ELSE v_base_block -> v_field END,
        'theirs', CASE WHEN v_field = 'position' THEN to_jsonb(v_row.y_order) ELSE block_json(v_row) -> v_field END,
        'mine', CASE WHEN v_action = 'delete' THEN 'null'::jsonb
                     WHEN v_field = 'content' AND NOT (p_op ? 'content') THEN coalesce(v_rebase -> 'mine', p_op -> 'text_op')
                     ELSE p_op -> v_field END));
    END LOOP;
    IF jsonb_array_length(v_fields) > 0 THEN
      v_seq := nextval('seq_block_events');
      RETURN jsonb_build_object('result', potentia_log_unapplied(p_canvas, v_seq, v_block_id, v_client_op, p_user,
        v_action, v_base, p_payload, 'conflict', v_row.version, block_json(v_row),
        jsonb_build_object('reason', 'stale_fields', 'fields', v_fields), NULL));
    END IF;
  END IF;

  IF v_action = 'delete' THEN
    -- The block and its live descendants leave the document; each is an applied op (RT-5 replays it).
    FOR d IN
      WITH RECURSIVE sub AS (
        SELECT x.block_id, 0 AS depth FROM blocks x WHERE x.block_id = v_block_id
        UNION ALL
        SELECT c.block_id, s.depth + 1 FROM blocks c JOIN sub s ON c.parent_id = s.block_id WHERE c.deleted_at IS NULL
      )
      SELECT sub.block_id, sub.depth FROM sub ORDER BY depth DESC, block_id
    LOOP
      v_seq := nextval('seq_block_events');
      UPDATE blocks SET deleted_at = now(), y_order = NULL, version = version + 1, updated_at = now(), updated_by = p_user
       WHERE block_id = d.block_id RETURNING * INTO v_row;
      v_logged := potentia_log_applied(p_canvas, v_seq, d.block_id, v_client_op, p_user, 'delete',
                                       CASE WHEN d.block_id = v_block_id THEN v_base END, v_row.version,
                                       p_payload, NULL, NULL, false);
      v_events := v_events || jsonb_build_array(v_logged -> 'event');
    END LOOP;
    RETURN jsonb_build_object('result', v_logged -> 'result', 'events', v_events);
  END IF;

  -- update
  IF p_op ? 'text_op' THEN
    IF v_rebase IS NULL OR (v_rebase ->> 'version')::integer <> v_row.version THEN
      RETURN jsonb_build_object('rebase_needed', true);
    END IF;
    IF v_rebase ? 'error' THEN
      RAISE EXCEPTION '%', v_rebase ->> 'error' USING ERRCODE = 'P0001',
        HINT = coalesce(v_rebase ->> 'error_code', 'invalid_op');
    END IF;
  END IF;
  IF p_op ? 'parent_id' AND p_op ->> 'parent_id' IS NOT NULL THEN
    v_parent := (p_op ->> 'parent_id')::uuid;
    PERFORM 1 FROM blocks WHERE block_id = v_parent AND canvas_id = p_canvas AND deleted_at IS NULL;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'parent_id is not a live block of this canvas' USING ERRCODE = 'P0001', HINT = 'invalid_op';
    END IF;
    -- No cycles: the new parent may not be the block itself or one of its descendants.
    PERFORM 1 FROM (
      WITH RECURSIVE up AS (
        SELECT x.block_id, x.parent_id FROM blocks x WHERE x.block_id = v_parent
        UNION ALL
        SELECT p.block_id, p.parent_id FROM blocks p JOIN up ON p.block_id = up.parent_id
      ) SELECT 1 FROM up WHERE up.block_id = v_block_id) cyc;
    IF FOUND THEN
      RAISE EXCEPTION 'parent_id would make a cycle' USING ERRCODE = 'P0001', HINT = 'invalid_op';
    END IF;
  END IF;
  IF p_op ? 'position' THEN
    v_placed := potentia_place_and_rekey(p_canvas, v_block_id, p_op -> 'position');
    v_events := v_placed -> 'events';
  END IF;

  v_seq := nextval('seq_block_events');
  v_fv := v_row.field_versions;
  FOREACH v_field IN ARRAY ARRAY['content', 'props', 'type', 'parent_id', 'position'] LOOP
    IF p_op ? v_field OR (v_field = 'content' AND p_op ? 'text_op') THEN
      v_fv := v_fv || jsonb_build_object(v_field, v_row.version + 1);
    END IF;
  END LOOP;
  IF v_content_set THEN v_fv := v_fv || jsonb_build_object('content_set', v_row.version + 1); END IF;

  UPDATE blocks SET
    content = CASE WHEN p_op ? 'content' THEN p_op ->> 'content'
                   WHEN p_op ? 'text_op' THEN v_rebase ->> 'content'
                   ELSE content END,
    -- props patches merge shallowly; a null value removes the key.
    props = CASE WHEN p_op ? 'props'
                 THEN (props || (p_op -> 'props'))
                      - ARRAY(SELECT e.key FROM jsonb_each(p_op -> 'props') e WHERE e.value = 'null'::jsonb)
                 ELSE props END,
    type = coalesce(p_op ->> 'type', type),
    parent_id = CASE WHEN p_op ? 'parent_id' THEN (p_op ->> 'parent_id')::uuid ELSE parent_id END,
    y_order = coalesce(v_placed ->> 'y_order', y_order),
    version = version + 1,
    field_versions = v_fv,
    updated_at = now(),
    updated_by = p_user
  WHERE block_id = v_block_id
  RETURNING * INTO v_row;
  v_logged := potentia_log_applied(p_canvas, v_seq, v_block_id, v_client_op, p_user, 'update', v_base,
                                   v_row.version, p_payload, block_json(v_row), v_rebase -> 'text_op',
                                   v_content_set);
  RETURN jsonb_build_object('result', v_logged -> 'result', 'events', v_events || jsonb_build_array(v_logged -> 'event'));
END $$;

-- MUT-7: counts `p_cost` mutate requests of p_user in the current fixed window of
-- `p_duration_s` seconds and returns the window's count after them.
CREATE OR REPLACE FUNCTION potentia_rate_take(p_user uuid, p_duration_s double precision, p_cost integer)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  v_window timestamptz := to_timestamp(floor(extract(epoch FROM clock_timestamp()) / p_duration_s) * p_duration_s);
  v_count integer;
BEGIN
  INSERT INTO rpc_rate_limits AS r (user_id, window_start, count) VALUES (p_user, v_window, p_cost)
  ON CONFLICT (user_id, window_start) DO UPDATE SET count = r.count + p_cost
  RETURNING r.count INTO v_count;
  RETURN v_count;
END $$;

-- Locks the canvas row for the rest of the transaction (DB-3) and returns its last applied
-- server_seq; raises 'canvas_not_found' for a missing or deleted canvas. The lock and the
-- prev_seq chain head are kept in transaction-local settings, so that the ops of a group
-- commit neither re-lock nor rewrite the canvas row once per op (potentia_chain_flush writes
-- the head back once).
CREATE OR REPLACE FUNCTION potentia_lock_canvas(p_canvas uuid) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  v_last bigint;
BEGIN
  IF current_setting('potentia.locked_canvas', true) = p_canvas::text THEN
    RETURN nullif(current_setting('potentia.last_seq', true), '')::bigint;
  END IF;
  SELECT last_seq INTO v_last FROM canvas WHERE canvas_id = p_canvas AND deleted_at IS NULL FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'canvas % not found', p_canvas USING ERRCODE = 'P0002', HINT = 'canvas_not_found';
  END IF;
  PERFORM set_config('potentia.locked_canvas', p_canvas::text, true),
          set_config('potentia.last_seq', coalesce(v_last::text, ''), true),
          set_config('potentia.flushed_seq', coalesce(v_last::text, ''), true);
  RETURN v_last;
END $$;

-- The prev_seq of an op taking `p_seq` now; advances the chain head (RT-3).
CREATE OR REPLACE FUNCTION potentia_chain_advance(p_canvas uuid, p_seq bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  v_prev bigint;
BEGIN
  IF current_setting('potentia.locked_canvas', true) IS DISTINCT FROM p_canvas::text THEN
    PERFORM potentia_lock_canvas(p_canvas);
  END IF;
  v_prev := nullif(current_setting('potentia.last_seq'), '')::bigint;
  PERFORM set_config('potentia.last_seq', p_seq::text, true);
  RETURN v_prev;
END $$;

-- Writes the chain head back to the canvas row when it moved.
CREATE OR REPLACE FUNCTION potentia_chain_flush(p_canvas uuid) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  v_head text := current_setting('potentia.last_seq', true);
BEGIN
  IF current_setting('potentia.locked_canvas', true) = p_canvas::text
     AND v_head IS DISTINCT FROM current_setting('potentia.flushed_seq', true) THEN
    UPDATE canvas SET last_seq = nullif(v_head, '')::bigint, updated_at = now() WHERE canvas_id = p_canvas;
    PERFORM set_config('potentia.flushed_seq', v_head, true);
  END IF;
END $$;

-- MUT-2: one whole op — canvas lock, idempotency (MUT-3), server_seq before the write, row
-- lock, field-level version check (MUT-4), write, op-log row, audit row — with a failure path:
-- any error inside rolls the op's own work back to a savepoint and logs it as `failed`.
-- p_ctx: { ip, user_agent, rate_limited, fast }. `fast` (used by rpc_mutate_batch) skips the
-- per-op savepoint: an error then aborts the whole transaction and the caller re-runs the group
-- without `fast`, so the failure path is the same, only paid for when something fails.
-- Returns { result, events } or { rebase_needed }.
CREATE OR REPLACE FUNCTION rpc_upsert_block_atomic(p_canvas_id uuid, p_user_id uuid, p_op jsonb, p_ctx jsonb DEFAULT '{}'::jsonb)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  t0 timestamptz := clock_timestamp();
  v_payload jsonb := p_op - 'text_rebase';
  v_client_op uuid;
  v_block_id uuid;
  v_action text := p_op ->> 'action';
  v_prior block_operations;
  v_out jsonb;
  v_result jsonb;
  v_seq bigint;
  v_code text;
  v_msg text;
  v_state text;
  v_affected integer;
BEGIN
  IF NOT coalesce((p_ctx ->> 'in_batch')::boolean, false) THEN
    PERFORM potentia_lock_canvas(p_canvas_id);
  END IF;
  BEGIN
    v_client_op := (p_op ->> 'client_op_id')::uuid;
    v_block_id := (p_op ->> 'block_id')::uuid;
  EXCEPTION WHEN invalid_text_representation THEN
    v_client_op := NULL;
  END;
  IF v_client_op IS NULL OR v_block_id IS NULL OR v_action IS NULL OR v_action NOT IN ('create', 'update', 'delete') THEN
    RETURN jsonb_build_object('result', jsonb_build_object('client_op_id', p_op -> 'client_op_id',
      'block_id', p_op -> 'block_id', 'status', 'failed', 'server_seq', NULL, 'version', NULL, 'block', NULL,
      'error', jsonb_build_object('code', 'invalid_op', 'message', 'client_op_id and block_id (UUIDs) and action are required')));
  END IF;

  -- MUT-3: the same (client_op_id, block_id) returns the first result and applies nothing.
  SELECT * INTO v_prior FROM block_operations WHERE client_op_id = v_client_op AND block_id = v_block_id;
  IF FOUND THEN
    IF v_prior.status = 'failed' AND v_prior.error ->> 'code' IN ('rate_limited', 'internal', 'timeout') THEN
      -- A transient failure is not a decision: the retry gets a fresh attempt (the audit keeps the first).
      DELETE FROM block_operations WHERE server_seq = v_prior.server_seq;
    ELSIF v_prior.canvas_id <> p_canvas_id OR v_prior.payload_hash <> md5(v_payload::text) THEN
      v_result := jsonb_build_object('client_op_id', v_client_op, 'block_id', v_block_id, 'status', 'failed',
        'server_seq', v_prior.server_seq, 'version', v_prior.version, 'block', NULL,
        'error', jsonb_build_object('code', 'idempotency_mismatch',
                                    'message', 'this client_op_id was used for a different op'));
      INSERT INTO system_audit (actor_id, canvas_id, action, target_id, status, ip, user_agent, latency_ms, affected_rows, detail)
      VALUES (p_user_id, p_canvas_id, 'op.' || v_action, v_block_id::text, 'failed', p_ctx ->> 'ip', p_ctx ->> 'user_agent',
              extract(epoch FROM clock_timestamp() - t0) * 1000, 0,
              jsonb_build_object('client_op_id', v_client_op, 'error', 'idempotency_mismatch'));
      RETURN jsonb_build_object('result', v_result);
    ELSE
      RETURN jsonb_build_object('result', v_prior.result || jsonb_build_object('replayed', true), 'replayed', true);
    END IF;
  END IF;

  IF coalesce((p_ctx ->> 'rate_limited')::boolean, false) THEN
    v_seq := nextval('seq_block_events');
    v_result := potentia_log_unapplied(p_canvas_id, v_seq, v_block_id, v_client_op, p_user_id, v_action,
      (p_op ->> 'base_version')::integer, v_payload, 'failed', NULL, NULL, NULL,
      jsonb_build_object('code', 'rate_limited', 'message', 'too many mutate requests; retry later'));
    v_out := jsonb_build_object('result', v_result);
  ELSIF coalesce((p_ctx ->> 'fast')::boolean, false) THEN
    v_out := potentia_apply_op(p_canvas_id, p_user_id, p_op, v_payload);
    IF v_out ? 'rebase_needed' THEN
      RETURN v_out;
    END IF;
  ELSE
    BEGIN
      v_out := potentia_apply_op(p_canvas_id, p_user_id, p_op, v_payload);
      IF v_out ? 'rebase_needed' THEN
        RETURN v_out;
      END IF;
      -- Check the deferred DB-2 key now, inside this op's savepoint, so a violation fails
      -- only this op instead of the whole commit.
      SET CONSTRAINTS blocks_canvas_y_order_key IMMEDIATE;
      SET CONSTRAINTS blocks_canvas_y_order_key DEFERRED;
    EXCEPTION WHEN OTHERS THEN
      GET STACKED DIAGNOSTICS v_msg = MESSAGE_TEXT, v_state = RETURNED_SQLSTATE, v_code = PG_EXCEPTION_HINT;
      v_code := CASE
        WHEN v_code IN ('invalid_op', 'invalid_position', 'stale_base') THEN v_code
        WHEN v_state = '57014' THEN 'timeout'
        WHEN v_state LIKE '22%' OR v_state LIKE '23%' THEN 'invalid_op'
        ELSE 'internal' END;
      v_seq := nextval('seq_block_events');
      v_result := potentia_log_unapplied(p_canvas_id, v_seq, v_block_id, v_client_op, p_user_id, v_action,
        (p_op ->> 'base_version')::integer, v_payload, 'failed', NULL, NULL, NULL,
        jsonb_build_object('code', v_code, 'message', v_msg));
      v_out := jsonb_build_object('result', v_result);
    END;
  END IF;

  v_result := v_out -> 'result';
  v_affected := CASE WHEN v_result ->> 'status' = 'success' THEN greatest(1, jsonb_array_length(coalesce(v_out -> 'events', '[]'))) ELSE 0 END;
  INSERT INTO system_audit (actor_id, canvas_id, action, target_id, status, ip, user_agent, latency_ms, affected_rows, detail)
  VALUES (p_user_id, p_canvas_id, 'op.' || v_action, v_block_id::text, v_result ->> 'status',
          p_ctx ->> 'ip', p_ctx ->> 'user_agent', extract(epoch FROM clock_timestamp() - t0) * 1000, v_affected,
          jsonb_strip_nulls(jsonb_build_object('client_op_id', v_client_op, 'server_seq', v_result -> 'server_seq',
                                               'error', v_result #> '{error,code}')));
  IF NOT coalesce((p_ctx ->> 'in_batch')::boolean, false) THEN
    PERFORM potentia_chain_flush(p_canvas_id);
  END IF;
  RETURN v_out;
END $$;

-- The set-based fast path of rpc_mutate_batch for the common group: every op a plain update
-- (content / text_op / props / type; no parent_id, no position) of a distinct live block of this
-- canvas, with base_version = the block's version (so nothing can be stale, MUT-4), a fresh
-- (client_op_id, block_id) (MUT-3), a text op's rebase current, and no request rate-limited.
-- It writes exactly what the per-op path writes for such ops — same block rows, versions,
-- field_versions, op-log rows (server_seq in op order, prev_seq chain), audit rows (one per op,
-- in op order), results and events — with a few set-based statements instead of ~10 PL/pgSQL
-- statements per op. Returns NULL (having written nothing; at most rows locked) when the group
-- is not eligible: the caller then runs the per-op path. The canvas must be locked
-- (potentia_lock_canvas). Any error in the writes (a CHECK on content/type/props) aborts the
-- transaction, as the per-op `fast` mode does. The output is built as json text: each block is
-- serialized once instead of being copied through every level of a jsonb tree.
-- The planner cannot know a group's size (it guesses 10,000 ops): left alone it would JIT-compile
-- these statements, which costs far more than running them, and join the blocks table by a
-- full scan and a hash. A group touches a few rows by primary key: index nested loops only, no
-- JIT, and generic plans (re-planning every call costs as much as running).
CREATE OR REPLACE FUNCTION potentia_mutate_fast(p_canvas uuid, p_requests jsonb, p_limited boolean[])
RETURNS json
LANGUAGE plpgsql
SET jit = off SET plan_cache_mode = force_generic_plan
SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off AS $$
DECLARE
  t0 timestamptz := clock_timestamp();
  v_n integer;
  v_ok boolean;
  v_ids uuid[];
  v_cids uuid[];
  v_bases integer[];
  v_text boolean[];
  v_rv integer[];
  v_match integer;
  v_seqs bigint[];
  v_head bigint;
  v_out json;
BEGIN
  -- 1. The shape of every op, with the casts the per-op path makes (one that fails: not eligible).
  BEGIN
    SELECT count(*),
           coalesce(bool_and(
             o.op ->> 'action' = 'update' AND (r.req ->> 'user_id')::uuid IS NOT NULL
             AND NOT (o.op ? 'parent_id') AND NOT (o.op ? 'position')
             AND (NOT (o.op ? 'text_op') OR (jsonb_typeof(o.op -> 'text_rebase') = 'object'
                                             AND NOT (o.op -> 'text_rebase' ? 'error')))), false)
             -- every request has ops (one without would be missing from this join)
             AND count(DISTINCT r.ri) = jsonb_array_length(p_requests),
           array_agg((o.op ->> 'block_id')::uuid ORDER BY r.ri, o.oi),
           array_agg((o.op ->> 'client_op_id')::uuid ORDER BY r.ri, o.oi),
           array_agg((o.op ->> 'base_version')::integer ORDER BY r.ri, o.oi),
           array_agg(o.op ? 'text_op' ORDER BY r.ri, o.oi),
           array_agg((o.op #>> '{text_rebase,version}')::integer ORDER BY r.ri, o.oi)
      INTO v_n, v_ok, v_ids, v_cids, v_bases, v_text, v_rv
      FROM jsonb_array_elements(p_requests) WITH ORDINALITY r(req, ri),
           jsonb_array_elements(r.req -> 'ops') WITH ORDINALITY o(op, oi);
  EXCEPTION WHEN OTHERS THEN
    RETURN NULL;
  END;
  IF NOT v_ok OR v_n = 0 OR true = ANY (p_limited)
     OR (SELECT count(DISTINCT x) FROM unnest(v_ids) x) <> v_n THEN
    RETURN NULL;
  END IF;
  -- 2. Every block live in this canvas at exactly base_version, locked as the per-op path locks
  -- it, and (MUT-3) no op of the group seen before.
  SELECT count(*) INTO v_match FROM (
    SELECT 1 FROM blocks b
      JOIN unnest(v_ids, v_bases, v_text, v_rv, v_cids) AS t(block_id, base, is_text, rv, client_op_id)
        ON b.block_id = t.block_id
     WHERE b.canvas_id = p_canvas AND b.deleted_at IS NULL AND b.version = t.base
       AND (NOT t.is_text OR t.rv = b.version)
       AND NOT EXISTS (SELECT 1 FROM block_operations bo
                        WHERE bo.client_op_id = t.client_op_id AND bo.block_id = t.block_id)
     FOR UPDATE OF b) s;
  IF v_match <> v_n THEN
    RETURN NULL;
  END IF;

  -- 3. server_seq in op order, the prev_seq chain continuing from the canvas's head.
  SELECT array_agg(s ORDER BY s) INTO v_seqs
    FROM (SELECT nextval('seq_block_events') AS s FROM generate_series(1, v_n)) q;
  v_head := nullif(current_setting('potentia.last_seq'), '')::bigint;

  WITH ops AS (
    SELECT row_number() OVER (ORDER BY r.ri, o.oi)::integer AS idx, r.ri, o.oi, o.op,
           o.op - 'text_rebase' AS payload, o.op -> 'text_rebase' AS rebase,
           (r.req ->> 'user_id')::uuid AS user_id, r.req ->> 'ip' AS ip, r.req ->> 'user_agent' AS user_agent,
           (o.op ->> 'block_id')::uuid AS block_id, (o.op ->> 'client_op_id')::uuid AS client_op_id,
           (o.op ->> 'base_version')::integer AS base
      FROM jsonb_array_elements(p_requests) WITH ORDINALITY r(req, ri),
           jsonb_array_elements(r.req -> 'ops') WITH ORDINALITY o(op, oi)
  ), seqd AS (
    SELECT ops.*, v_seqs[idx] AS seq, CASE WHEN idx = 1 THEN v_head ELSE v_seqs[idx - 1] END AS prev
      FROM ops
  ), upd AS (
    UPDATE blocks b SET
      content = CASE WHEN o.op ? 'content' THEN o.op ->> 'content'
                     WHEN o.op ? 'text_op' THEN o.rebase ->> 'content'
                     ELSE b.content END,
      props = CASE WHEN o.op ? 'props'
                   THEN (b.props || (o.op -> 'props'))
                        - ARRAY(SELECT e.key FROM jsonb_each(o.op -> 'props') e WHERE e.value = 'null'::jsonb)
                   ELSE b.props END,
      type = coalesce(o.op ->> 'type', b.type),
      y_order = b.y_order,
      version = b.version + 1,
      field_versions = b.field_versions
        || CASE WHEN o.op ? 'content' OR o.op ? 'text_op' THEN jsonb_build_object('content', b.version + 1) ELSE '{}'::jsonb END
        || CASE WHEN o.op ? 'props' THEN jsonb_build_object('props', b.version + 1) ELSE '{}'::jsonb END
        || CASE WHEN o.op ? 'type' THEN jsonb_build_object('type', b.version + 1) ELSE '{}'::jsonb END
        || CASE WHEN o.op ? 'content' THEN jsonb_build_object('content_set', b.version + 1) ELSE '{}'::jsonb END,
      updated_at = now(),
      updated_by = o.user_id
    FROM seqd o
    WHERE b.block_id = o.block_id
    RETURNING o.idx, o.ri, o.oi, o.op, o.payload, o.user_id, o.ip, o.user_agent, o.block_id, o.client_op_id,
              o.base, o.seq, o.prev, b.version, o.rebase -> 'text_op' AS text_op, jsonb_build_object(
      'block_id', b.block_id, 'canvas_id', b.canvas_id, 'parent_id', b.parent_id, 'type', b.type,
      'content', b.content, 'props', b.props, 'y_order', b.y_order, 'version', b.version,
      'created_at', b.created_at, 'created_by', b.created_by,
      'updated_at', b.updated_at, 'updated_by', b.updated_by) AS block
  ), res AS (
    SELECT u.*,
           CASE WHEN u.text_op IS NOT NULL
             THEN jsonb_build_object('client_op_id', u.client_op_id, 'block_id', u.block_id, 'status', 'success',
                                     'server_seq', u.seq, 'version', u.version, 'block', u.block,
                                     'text_op', u.text_op)
             ELSE jsonb_build_object('client_op_id', u.client_op_id, 'block_id', u.block_id, 'status', 'success',
                                     'server_seq', u.seq, 'version', u.version, 'block', u.block) END AS result
      FROM upd u
  ), ins_log AS (
    INSERT INTO block_operations (server_seq, prev_seq, canvas_id, block_id, client_op_id, user_id, action,
                                  status, base_version, version, payload, payload_hash, text_op,
                                  content_set, result)
    SELECT seq, prev, p_canvas, block_id, client_op_id, user_id, 'update', 'success', base, version,
           payload, md5(payload::text), text_op, op ? 'content', result
      FROM res ORDER BY idx
  ), ins_audit AS (
    INSERT INTO system_audit (actor_id, canvas_id, action, target_id, status, ip, user_agent, latency_ms, affected_rows, detail)
    SELECT user_id, p_canvas, 'op.update', block_id::text, 'success', ip, user_agent,
           -- the group's time, shared evenly between its ops
           extract(epoch FROM clock_timestamp() - t0) * 1000 / v_n, 1,
           jsonb_build_object('client_op_id', client_op_id, 'server_seq', seq)
      FROM res ORDER BY idx
  )
  SELECT json_build_object(
           'results', (SELECT json_agg(q.rs ORDER BY q.ri)
                         FROM (SELECT ri, json_agg(result ORDER BY oi) AS rs FROM res GROUP BY ri) q),
           'events', (SELECT json_agg(json_build_object(
                               'type', 'op', 'server_seq', seq, 'prev_seq', prev, 'client_op_id', client_op_id,
                               'user_id', user_id, 'action', 'update', 'block_id', block_id, 'block', block,
                               'text_op', text_op) ORDER BY idx) FROM res),
           'rate_limited', p_limited)
    INTO v_out;
  PERFORM set_config('potentia.last_seq', v_seqs[v_n]::text, true);
  RETURN v_out;
END $$;

-- A group commit: many mutate requests of one canvas in one transaction (one WAL flush).
-- p_requests: [{ user_id, ip, user_agent, rate: { points, duration } | null, rate_limited?, ops: [...] }].
-- MUT-7 counts each request that carries `rate` against its user's window, once per user per
-- group. `p_fast` skips per-op savepoints (see rpc_upsert_block_atomic) and first tries the
-- set-based path (potentia_mutate_fast) for a group of plain non-stale updates. Stops at the
-- first text op whose TypeScript-side rebase is stale and says where (rate_limited then still
-- holds the verdict of every request: all were counted), or with `p_stop_raises` raises
-- (HINT rebase_needed) so that nothing of the group commits (CanvasSync's one-statement path):
-- { results, events, rate_limited, stopped_at? }.
DROP FUNCTION IF EXISTS rpc_mutate_batch(uuid, jsonb, boolean);
CREATE OR REPLACE FUNCTION rpc_mutate_batch(p_canvas_id uuid, p_requests jsonb, p_fast boolean DEFAULT false,
                                            p_stop_raises boolean DEFAULT false)
RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
  v_req jsonb;
  v_op jsonb;
  v_out jsonb;
  v_limited boolean;
  -- plpgsql appends to local arrays in place; growing jsonb values would be copied each time.
  v_results jsonb[] := '{}';
  v_req_results jsonb[];
  v_events jsonb[] := '{}';
  v_limited_flags boolean[] := '{}';
  v_ctx jsonb;
  v_used jsonb := '{}'::jsonb;
  v_user text;
  v_fast json;
  u record;
  ri integer := 0;
  oi integer;
BEGIN
  PERFORM potentia_lock_canvas(p_canvas_id);
  -- MUT-7: one counter update per user and group; `v_used` holds each user's window count
  -- before this group, and each request is allowed while its own position stays within points.
  FOR u IN
    SELECT r ->> 'user_id' AS user_id, (r #>> '{rate,points}')::integer AS points,
           (r #>> '{rate,duration}')::double precision AS duration, count(*)::integer AS n
      FROM jsonb_array_elements(p_requests) r
     WHERE jsonb_typeof(r -> 'rate') = 'object' AND NOT coalesce((r ->> 'rate_limited')::boolean, false)
     GROUP BY 1, 2, 3
  LOOP
    v_used := v_used || jsonb_build_object(u.user_id,
      potentia_rate_take(u.user_id::uuid, u.duration, u.n) - u.n);
  END LOOP;
  FOR v_req IN SELECT value FROM jsonb_array_elements(p_requests) LOOP
    v_user := v_req ->> 'user_id';
    v_limited := coalesce((v_req ->> 'rate_limited')::boolean, false);
    IF NOT v_limited AND jsonb_typeof(v_req -> 'rate') = 'object' THEN
      v_used := jsonb_set(v_used, ARRAY[v_user], to_jsonb((v_used ->> v_user)::integer + 1));
      v_limited := (v_used ->> v_user)::integer > (v_req #>> '{rate,points}')::integer;
    END IF;
    v_limited_flags := array_append(v_limited_flags, v_limited);
  END LOOP;

  IF p_fast AND NOT (true = ANY (v_limited_flags)) THEN
    v_fast := potentia_mutate_fast(p_canvas_id, p_requests, v_limited_flags);
    IF v_fast IS NOT NULL THEN
      PERFORM potentia_chain_flush(p_canvas_id);
      RETURN v_fast;
    END IF;
  END IF;

  FOR v_req IN SELECT value FROM jsonb_array_elements(p_requests) LOOP
    v_user := v_req ->> 'user_id';
    v_ctx := jsonb_build_object('ip', v_req -> 'ip', 'user_agent', v_req -> 'user_agent',
                               'rate_limited', v_limited_flags[ri + 1], 'fast', p_fast, 'in_batch', true);
    v_req_results := '{}';
    oi := 0;
    FOR v_op IN SELECT value FROM jsonb_array_elements(v_req -> 'ops') LOOP
      v_out := rpc_upsert_block_atomic(p_canvas_id, v_user::uuid, v_op, v_ctx);
      IF v_out ? 'rebase_needed' THEN
        IF p_stop_raises THEN
          RAISE EXCEPTION 'a text op''s rebase is stale' USING ERRCODE = 'P0001', HINT = 'rebase_needed';
        END IF;
        PERFORM potentia_chain_flush(p_canvas_id);
        v_results := array_append(v_results, to_jsonb(v_req_results));
        RETURN jsonb_build_object('results', to_jsonb(v_results), 'events', to_jsonb(v_events),
                                  'rate_limited', to_jsonb(v_limited_flags), 'stopped_at', jsonb_build_array(ri, oi))::json;
      END IF;
      v_req_results := array_append(v_req_results, v_out -> 'result');
      IF jsonb_typeof(v_out -> 'events') = 'array' THEN
        v_events := v_events || ARRAY(SELECT jsonb_array_elements(v_out -> 'events'));
      END IF;
      oi := oi + 1;
    END LOOP;
    v_results := array_append(v_results, to_jsonb(v_req_results));
    ri := ri + 1;
  END LOOP;
  PERFORM potentia_chain_flush(p_canvas_id);
  RETURN jsonb_build_object('results', to_jsonb(v_results), 'events', to_jsonb(v_events),
                            'rate_limited', to_jsonb(v_limited_flags))::json;
END $$;

-- MUT-5 support for the TypeScript side: the state a text op against `base_version` must be
-- transformed over — the block's current version/content, its content at the base, and every
-- applied op since (text ops and wholesale content sets), for each requested block.
-- p_items: [{ block_id, base_version }]. Locks the canvas first (DB-3).
CREATE OR REPLACE FUNCTION rpc_text_context(p_canvas_id uuid, p_items jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  v_out jsonb := '[]'::jsonb;
  it record;
  v_row blocks;
BEGIN
  PERFORM potentia_lock_canvas(p_canvas_id);
  FOR it IN SELECT (e ->> 'block_id')::uuid AS block_id, (e ->> 'base_version')::integer AS base
              FROM jsonb_array_elements(p_items) e LOOP
    SELECT * INTO v_row FROM blocks WHERE block_id = it.block_id AND canvas_id = p_canvas_id FOR UPDATE;
    IF NOT FOUND THEN
      v_out := v_out || jsonb_build_array(jsonb_build_object('block_id', it.block_id, 'exists', false));
      CONTINUE;
    END IF;
    v_out := v_out || jsonb_build_array(jsonb_build_object(
      'block_id', it.block_id, 'exists', true, 'deleted', v_row.deleted_at IS NOT NULL,
      'version', v_row.version, 'content', v_row.content,
      'base_content', CASE WHEN it.base = v_row.version THEN to_jsonb(v_row.content)
                           ELSE block_at_version(it.block_id, it.base) -> 'content' END,
      'history', coalesce((
        SELECT jsonb_agg(jsonb_build_object('version', o.version, 'text_op', o.text_op, 'content_set', o.content_set)
                         ORDER BY o.version)
          FROM block_operations o
         WHERE o.block_id = it.block_id AND o.status = 'success' AND o.version > it.base), '[]'::jsonb)));
  END LOOP;
  RETURN v_out;
END $$;
