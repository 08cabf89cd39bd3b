-- RT-11 / API-1: the write check of a mutate request happens inside its group commit, under the
-- canvas lock, instead of as a query of its own before it: one round trip less on the commit path,
-- and exact — a member removed or demoted commits nothing after the change (memberService takes
-- the same canvas lock). A request marked `check_write` (the caller checked the token's scopes
-- and left the role to this function) whose user is not a writer or owner of the canvas raises:
-- HINT 'forbidden' for a member without the right (403), 'not_member' for anyone else (404, as
-- API-1 answers a non-member). CanvasSync then runs the group's requests one by one, so only that
-- request fails.
CREATE OR REPLACE FUNCTION potentia_check_writers(p_canvas uuid, p_requests jsonb) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  v_user uuid;
  v_role text;
BEGIN
  FOR v_user IN
    SELECT DISTINCT (r ->> 'user_id')::uuid FROM jsonb_array_elements(p_requests) r
     WHERE coalesce((r ->> 'check_write')::boolean, false)
  LOOP
    SELECT m.role INTO v_role FROM canvas_members m WHERE m.canvas_id = p_canvas AND m.user_id = v_user;
    IF v_role IS NULL THEN
      RAISE EXCEPTION 'not a member of this canvas' USING ERRCODE = 'P0001', HINT = 'not_member';
    ELSIF v_role NOT IN ('owner', 'writer') THEN
      RAISE EXCEPTION 'you may not write to this canvas' USING ERRCODE = 'P0001', HINT = 'forbidden';
    END IF;
  END LOOP;
END $$;

-- As in 20261126000200_mutation_core, with the write check first.
-- A group commit: many mutate requests of one canvas in one transaction (one WAL flush).
-- p_requests: [{ user_id, ip, user_agent, rate: { points, duration } | null, rate_limited?, ops: [...] }].
-- MUT-7 counts each request that carries `rate` against its user's window, once per user per
-- group. `p_fast` skips per-op savepoints (see rpc_upsert_block_atomic) and first tries the
-- set-based path (potentia_mutate_fast) for a group of plain non-stale updates. Stops at the
-- first text op whose TypeScript-side rebase is stale and says where (rate_limited then still
-- holds the verdict of every request: all were counted), or with `p_stop_raises` raises
-- (HINT rebase_needed) so that nothing of the group commits (CanvasSync's one-statement path):
-- { results, events, rate_limited, stopped_at? }.
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
  PERFORM potentia_check_writers(p_canvas_id, p_requests);
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

