-- RT-9: op events carry deltas, not blocks. One builder, potentia_op_event, makes the event of an
-- applied op from what the op log holds — live (potentia_log_applied, the set-based fast path) and
-- replayed (H4, a room's healing) alike, so a replay is byte-for-byte the live event:
--   every event: type, server_seq, prev_seq, client_op_id, user_id, action, block_id, version;
--   create: block (the new block);
--   update: updated_at, updated_by, text_op (the transformed text op, when it was one) and
--           set: the new value of each field the op set — type, content (a wholesale change),
--           props (the whole resulting object), parent_id, y_order (a move or a re-key);
--   delete: nothing more (the block leaves).
-- A one-character edit's event is a few hundred bytes whatever the block's size.
CREATE OR REPLACE FUNCTION potentia_op_event(
  p_seq bigint, p_prev bigint, p_client_op uuid, p_user uuid, p_action text, p_block uuid,
  p_version integer, p_payload jsonb, p_block_json jsonb, p_text_op jsonb
) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
  SELECT jsonb_build_object('type', 'op', 'server_seq', p_seq, 'prev_seq', p_prev, 'client_op_id', p_client_op,
                            'user_id', p_user, 'action', p_action, 'block_id', p_block, 'version', p_version)
    || CASE p_action
         WHEN 'create' THEN jsonb_build_object('block', p_block_json)
         WHEN 'update' THEN
           jsonb_build_object('updated_at', p_block_json -> 'updated_at', 'updated_by', p_block_json -> 'updated_by')
           || CASE WHEN p_text_op IS NOT NULL THEN jsonb_build_object('text_op', p_text_op) ELSE '{}'::jsonb END
           || CASE WHEN s.fields = '{}'::jsonb THEN '{}'::jsonb ELSE jsonb_build_object('set', s.fields) END
         ELSE '{}'::jsonb
       END
    FROM (SELECT
            CASE WHEN p_payload ? 'type' THEN jsonb_build_object('type', p_block_json -> 'type') ELSE '{}'::jsonb END
            || CASE WHEN p_payload ? 'content' THEN jsonb_build_object('content', p_block_json -> 'content') ELSE '{}'::jsonb END
            || CASE WHEN p_payload ? 'props' THEN jsonb_build_object('props', p_block_json -> 'props') ELSE '{}'::jsonb END
            || CASE WHEN p_payload ? 'parent_id' THEN jsonb_build_object('parent_id', p_block_json -> 'parent_id') ELSE '{}'::jsonb END
            || CASE WHEN p_payload ? 'position' OR p_payload ? 'rekey'
                    THEN jsonb_build_object('y_order', p_block_json -> 'y_order') ELSE '{}'::jsonb END AS fields) s
$$;

-- The event of one op-log row (H4 replays, a room's healing): the same builder as the live path.
CREATE OR REPLACE FUNCTION potentia_logged_event(o block_operations) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
  SELECT potentia_op_event(o.server_seq, o.prev_seq, o.client_op_id, o.user_id, o.action, o.block_id, o.version,
                           o.payload, o.result -> 'block', o.text_op)
$$;

-- As in 20261126000200_mutation_core; the event is now potentia_op_event's delta.
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
  RETURN jsonb_build_object('result', v_result, 'event', potentia_op_event(
    p_seq, v_prev, p_client_op, p_user, p_action, p_block, p_version, p_payload, p_block_json, p_text_op));
END $$;


-- As in 20261126000200_mutation_core (and 20261203000000_chains); events through potentia_op_event.
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
                     WHEN o.op ? 'text_op' THEN potentia_apply_text_op(b.content, o.rebase -> 'text_op')
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
           'events', (SELECT json_agg(potentia_op_event(seq, prev, client_op_id, user_id, 'update', block_id,
                                                        version, payload, block, text_op) ORDER BY idx) FROM res),
           'rate_limited', p_limited)
    INTO v_out;
  PERFORM set_config('potentia.last_seq', v_seqs[v_n]::text, true);
  RETURN v_out;
END $$;

