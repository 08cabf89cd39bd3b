-- MUT-9 and MUT-10: chains of pending ops and identical changes.
--
-- A client's ops on one block made before it heard back from the server (offline, or while an
-- earlier op was in flight) form a chain: each names its predecessor in `prev_client_op_id`, and
-- each carries as base_version the last version its author had seen when making it — never an
-- optimistic local count, which could name another user's op. A field changed after the base
-- conflicts only if someone other than the chain changed it (MUT-9); a change to the value the
-- field already has is no conflict at all (MUT-10). potentia_apply_op is redefined with both
-- rules; everything else it does is unchanged.

-- The versions that the chain ending at `p_prev` applied to `p_block` after `p_base`: walks the
-- predecessors of one user's ops on one block (a chain is never another user's: a client cannot
-- name someone else's op to hide that op's change). At most 64 links (SEC-5: bounded work).
CREATE OR REPLACE FUNCTION potentia_chain_versions(p_block uuid, p_user uuid, p_prev uuid, p_base integer)
RETURNS integer[]
LANGUAGE sql STABLE AS $$
  WITH RECURSIVE chain AS (
    SELECT o.status, o.version, o.payload ->> 'prev_client_op_id' AS prev, 1 AS depth
      FROM block_operations o
     WHERE o.client_op_id = p_prev AND o.block_id = p_block AND o.user_id = p_user
    UNION ALL
    SELECT o.status, o.version, o.payload ->> 'prev_client_op_id', c.depth + 1
      FROM chain c
      JOIN block_operations o ON o.client_op_id = c.prev::uuid AND o.block_id = p_block AND o.user_id = p_user
     WHERE c.depth < 64 AND (c.status <> 'success' OR c.version > p_base)
  )
  SELECT coalesce(array_agg(version) FILTER (WHERE status = 'success' AND version > p_base), '{}') FROM chain
$$;

-- Whether an applied op outside `p_chain` changed the value of `p_field` of `p_block` in
-- (p_base, p_version]: an op that set the field to the value it had changed nothing. 'content'
-- counts text ops and wholesale sets, 'content_set' only wholesale sets; a re-key (LEX-4) is no
-- move. A move counts when it changed the block's key (a drop in place is rare and then judged as
-- a change: the user decides). Each op's before and after values come from the op log; a history
-- it no longer holds in full, or one of more than 100 versions, counts as changed — the
-- conservative answer, a conflict the user decides, never a silent overwrite (SEC-5: bounded).
CREATE OR REPLACE FUNCTION potentia_changed_by_others(
  p_block uuid, p_field text, p_base integer, p_version integer, p_chain integer[]
) RETURNS boolean
LANGUAGE sql STABLE AS $$
  WITH h AS (
    SELECT o.version, o.action, o.content_set, o.payload,
           o.result -> 'block' AS b, lag(o.result -> 'block') OVER (ORDER BY o.version) AS a
      FROM block_operations o
     WHERE o.block_id = p_block AND o.status = 'success'
       AND o.version >= p_base AND o.version <= p_version AND p_version - p_base <= 100
  )
  SELECT p_version - p_base > 100
      OR count(*) FILTER (WHERE h.version > p_base) <> p_version - p_base
      OR coalesce(bool_or(h.version > p_base AND NOT (h.version = ANY (p_chain)) AND (
           h.action = 'delete' OR h.a IS NULL OR h.b IS NULL OR jsonb_typeof(h.b) <> 'object'
           OR CASE p_field
                WHEN 'content' THEN (h.payload ? 'content' OR h.payload ? 'text_op')
                                    AND h.b -> 'content' IS DISTINCT FROM h.a -> 'content'
                WHEN 'content_set' THEN h.content_set AND h.b -> 'content' IS DISTINCT FROM h.a -> 'content'
                WHEN 'position' THEN h.payload ? 'position' AND h.b -> 'y_order' IS DISTINCT FROM h.a -> 'y_order'
                ELSE h.payload ? p_field AND h.b -> p_field IS DISTINCT FROM h.a -> p_field
              END)), false)
    FROM h
$$;

-- MUT-10: whether the update `p_op` sets `p_field` of `b` to the value it already has. Position:
-- the block already sits where `position` asks (right after `after`, right before `before`, or
-- last when neither is named). A text op that merely reproduces the current text is not detected
-- (it is judged as a text op).
CREATE OR REPLACE FUNCTION potentia_same_value(b blocks, p_field text, p_op jsonb) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
DECLARE
  v_after uuid := (p_op #>> '{position,after}')::uuid;
  v_before uuid := (p_op #>> '{position,before}')::uuid;
  v_props jsonb;
BEGIN
  CASE p_field
    WHEN 'type' THEN
      RETURN p_op ->> 'type' = b.type;
    WHEN 'parent_id' THEN
      RETURN (p_op ->> 'parent_id')::uuid IS NOT DISTINCT FROM b.parent_id;
    WHEN 'content' THEN
      RETURN p_op ? 'content' AND p_op ->> 'content' = b.content;
    WHEN 'props' THEN
      v_props := (b.props || (p_op -> 'props'))
                 - ARRAY(SELECT e.key FROM jsonb_each(p_op -> 'props') e WHERE e.value = 'null'::jsonb);
      RETURN v_props = b.props;
    WHEN 'position' THEN
      IF b.y_order IS NULL THEN RETURN false; END IF;
      IF v_after IS NOT NULL AND v_after IS DISTINCT FROM (
           SELECT x.block_id FROM blocks x
            WHERE x.canvas_id = b.canvas_id AND x.deleted_at IS NULL AND x.y_order < b.y_order
            ORDER BY x.y_order DESC LIMIT 1) THEN
        RETURN false;
      END IF;
      IF v_before IS NOT NULL AND v_before IS DISTINCT FROM (
           SELECT x.block_id FROM blocks x
            WHERE x.canvas_id = b.canvas_id AND x.deleted_at IS NULL AND x.y_order > b.y_order
            ORDER BY x.y_order LIMIT 1) THEN
        RETURN false;
      END IF;
      IF v_after IS NULL AND v_before IS NULL THEN
        RETURN NOT EXISTS (SELECT 1 FROM blocks x
                            WHERE x.canvas_id = b.canvas_id AND x.deleted_at IS NULL AND x.y_order > b.y_order);
      END IF;
      RETURN true;
    ELSE
      RETURN false;
  END CASE;
END $$;

-- RT-11: the new text of a rebased text op is computed here, from the block's content and the op
-- CanvasSync transformed, instead of travelling to the database with every keystroke (a
-- 20,000-character block would send 20 KB per edit). Counts are characters (code points), as
-- ot-text-unicode and char_length count them; proven identical to ot-text-unicode's apply by a
-- differential test. The op fits the text (SEC-5: CanvasSync checked it before any work).
CREATE OR REPLACE FUNCTION potentia_apply_text_op(p_content text, p_op jsonb) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
  c jsonb;
  pos integer := 1;
  n integer;
  parts text[] := '{}';
BEGIN
  FOR c IN SELECT value FROM jsonb_array_elements(p_op) LOOP
    CASE jsonb_typeof(c)
      WHEN 'number' THEN
        n := (c #>> '{}')::integer;
        parts := parts || substr(p_content, pos, n);
        pos := pos + n;
      WHEN 'string' THEN
        parts := parts || (c #>> '{}');
      ELSE
        pos := pos + CASE jsonb_typeof(c -> 'd') WHEN 'number' THEN (c ->> 'd')::integer
                          ELSE char_length(c ->> 'd') END;
    END CASE;
  END LOOP;
  RETURN array_to_string(parts, '') || substr(p_content, pos);
END $$;

-- The decision and the write of one op (as in 20261126000200_mutation_core), with MUT-9 and
-- MUT-10 in the staleness check.
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
  v_check text;
  v_chain integer[];
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

  -- MUT-4: field-level staleness. A delete touches every field. A field whose last change is
  -- after the base conflicts unless the op sets it to the value it already has (MUT-10) or
  -- nobody but this op's own chain (prev_client_op_id, MUT-9) changed its value since.
  IF v_base < v_row.version THEN
    FOREACH v_field IN ARRAY ARRAY['content', 'props', 'type', 'parent_id', 'position'] LOOP
      CONTINUE WHEN v_action = 'update' AND NOT (p_op ? v_field)
                    AND NOT (v_field = 'content' AND p_op ? 'text_op');
      -- A text op merges over other text ops (MUT-5); only a wholesale content change stops it.
      v_check := CASE WHEN v_field = 'content' AND v_action = 'update' AND NOT (p_op ? 'content')
                      THEN 'content_set' ELSE v_field END;
      CONTINUE WHEN block_field_version(v_row, v_check) <= v_base;
      CONTINUE WHEN v_action = 'update' AND potentia_same_value(v_row, v_field, p_op);
      IF v_chain IS NULL THEN
        v_chain := CASE WHEN p_op ? 'prev_client_op_id'
                        THEN potentia_chain_versions(v_block_id, p_user, (p_op ->> 'prev_client_op_id')::uuid, v_base)
                        ELSE '{}'::integer[] END;
      END IF;
      CONTINUE WHEN NOT potentia_changed_by_others(v_block_id, v_check, v_base, v_row.version, v_chain);
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
    IF NOT (v_rebase ? 'text_op') AND NOT (v_rebase ? 'error') THEN
      -- The rebase stopped at a wholesale content change that did not count as someone else's
      -- change above (it set the text it had): still no safe place for the edit, so the user decides.
      v_seq := nextval('seq_block_events');
      IF v_base_block IS NULL THEN v_base_block := coalesce(block_at_version(v_block_id, v_base), '{}'::jsonb); END IF;
      RETURN jsonb_build_object('result', potentia_log_unapplied(p_canvas, v_seq, v_block_id, v_client_op, p_user,
        v_action, v_base, p_payload, 'conflict', v_row.version, block_json(v_row),
        jsonb_build_object('reason', 'stale_fields', 'fields', jsonb_build_array(jsonb_build_object(
          'field', 'content', 'base', v_base_block -> 'content', 'theirs', to_jsonb(v_row.content),
          'mine', coalesce(v_rebase -> 'mine', p_op -> 'text_op')))), NULL));
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
                   WHEN p_op ? 'text_op' THEN potentia_apply_text_op(content, v_rebase -> 'text_op')
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

-- As in 20261126000200_mutation_core, with SEC-5's bound: at most 1,000 versions of history.
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
    -- SEC-5: a base further back than the replay window is not transformed op by op; an empty
    -- history makes the rebase answer stale_base (the client reloads the block).
    IF v_row.version - it.base > 1000 THEN
      v_out := v_out || jsonb_build_array(jsonb_build_object(
        'block_id', it.block_id, 'exists', true, 'deleted', v_row.deleted_at IS NOT NULL,
        'version', v_row.version, 'content', v_row.content, 'base_content', NULL, 'history', '[]'::jsonb));
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
