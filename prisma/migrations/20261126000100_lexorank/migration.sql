-- LEX-1..LEX-4: ordering keys computed inside the mutation transaction.
-- An exact mirror of server/domain/lexorank.ts (between, spread); change both together.
-- server/domain/lexorank.int.test.ts checks they agree on thousands of random inputs.
-- A key is a base-36 fraction ('i' = 18/36) of 1..10 chars over 0-9a-z, never ending in
-- '0'; at a fixed length L a key is an integer in [1, 36^L - 1] (36^10 fits in bigint).
-- Re-runnable: every statement is CREATE OR REPLACE.

CREATE OR REPLACE FUNCTION lexo_is_valid(k text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT k ~ '^[0-9a-z]{0,9}[1-9a-z]$'
$$;

-- floor(k * 36^len): the first len digits of k, zero-padded, as an integer.
CREATE OR REPLACE FUNCTION lexo_trunc(k text, len integer) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  m bigint := 0;
  c integer;
BEGIN
  FOR i IN 1..len LOOP
    c := CASE WHEN i <= char_length(k) THEN ascii(substr(k, i, 1)) ELSE 48 END;
    m := m * 36 + CASE WHEN c <= 57 THEN c - 48 ELSE c - 87 END;
  END LOOP;
  RETURN m;
END $$;

-- The length-len key of m with trailing zeros dropped (same fraction, shorter key).
CREATE OR REPLACE FUNCTION lexo_encode(m bigint, len integer) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  rest bigint := m;
  out text := '';
BEGIN
  FOR i IN 1..len LOOP
    out := substr('0123456789abcdefghijklmnopqrstuvwxyz', (rest % 36)::integer + 1, 1) || out;
    rest := rest / 36;
  END LOOP;
  RETURN rtrim(out, '0');
END $$;

-- Raises 22023 on an invalid key or lo >= hi (NULL = open end), like the TS RangeError.
CREATE OR REPLACE FUNCTION lexo_check_bounds(lo text, hi text) RETURNS void
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
  IF lo IS NOT NULL AND NOT lexo_is_valid(lo) THEN
    RAISE EXCEPTION 'lexorank: invalid key %', quote_literal(lo) USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF hi IS NOT NULL AND NOT lexo_is_valid(hi) THEN
    RAISE EXCEPTION 'lexorank: invalid key %', quote_literal(hi) USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF lo IS NOT NULL AND hi IS NOT NULL AND lo COLLATE "C" >= hi COLLATE "C" THEN
    RAISE EXCEPTION 'lexorank: bounds out of order (% >= %)', lo, hi USING ERRCODE = 'invalid_parameter_value';
  END IF;
END $$;

-- A key strictly between a and b (NULL = open end); NULL when no key of <= 10 chars fits
-- (the caller then re-keys a window with lexo_spread). Bounded gaps: the middle key of the
-- shortest length that fits. Open ends: one unit past the bound at the shortest length
-- with >= 36 units of room, so runs of appends/prepends add a char only every ~1,260 keys.
CREATE OR REPLACE FUNCTION lexo_between(a text, b text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  p bigint;
  mn bigint;
  mx bigint;
BEGIN
  PERFORM lexo_check_bounds(a, b);
  IF (a IS NULL) <> (b IS NULL) THEN
    p := 1;
    FOR len IN 1..10 LOOP
      p := p * 36;
      mn := CASE WHEN a IS NULL THEN 1 ELSE lexo_trunc(a, len) + 1 END;
      mx := CASE WHEN b IS NULL THEN p - 1
                 ELSE lexo_trunc(b, len) + CASE WHEN char_length(b) > len THEN 0 ELSE -1 END END;
      IF mx - mn + 1 >= 36 THEN
        RETURN lexo_encode(CASE WHEN b IS NULL THEN mn ELSE mx END, len);
      END IF;
    END LOOP;
  END IF;
  p := 1;
  FOR len IN 1..10 LOOP
    p := p * 36;
    mn := CASE WHEN a IS NULL THEN 1 ELSE lexo_trunc(a, len) + 1 END;
    mx := CASE WHEN b IS NULL THEN p - 1
               ELSE lexo_trunc(b, len) + CASE WHEN char_length(b) > len THEN 0 ELSE -1 END END;
    IF mn <= mx THEN
      RETURN lexo_encode((mn + mx) / 2, len);
    END IF;
  END LOOP;
  RETURN NULL;
END $$;

-- n keys strictly between lo and hi (NULL = open end), ascending, evenly spaced at the
-- shortest length that holds them all; NULL when max_len chars cannot. Used for windowed
-- re-keying (LEX-2, LEX-3) and whole-canvas rebalance (LEX-4).
CREATE OR REPLACE FUNCTION lexo_spread(n integer, lo text, hi text, max_len integer DEFAULT 10)
RETURNS text[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  p bigint := 1;
  mn bigint;
  mx bigint;
BEGIN
  IF n IS NULL OR n < 0 THEN
    RAISE EXCEPTION 'lexorank: spread count must be a non-negative integer, got %', n
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF max_len IS NULL OR max_len < 1 OR max_len > 10 THEN
    RAISE EXCEPTION 'lexorank: max_len must be 1..10, got %', max_len USING ERRCODE = 'invalid_parameter_value';
  END IF;
  PERFORM lexo_check_bounds(lo, hi);
  IF n = 0 THEN
    RETURN '{}'::text[];
  END IF;
  FOR len IN 1..max_len LOOP
    p := p * 36;
    mn := CASE WHEN lo IS NULL THEN 1 ELSE lexo_trunc(lo, len) + 1 END;
    mx := CASE WHEN hi IS NULL THEN p - 1
               ELSE lexo_trunc(hi, len) + CASE WHEN char_length(hi) > len THEN 0 ELSE -1 END END;
    IF mx - mn + 1 >= n THEN
      -- Spacing over the open interval (mn - 1, mx + 1); numeric because k * span can pass 2^63.
      RETURN ARRAY(
        SELECT lexo_encode(mn - 1 + div(k::numeric * (mx - mn + 2), n + 1)::bigint, len)
        FROM generate_series(1, n) AS k
        ORDER BY k
      );
    END IF;
  END LOOP;
  RETURN NULL;
END $$;
