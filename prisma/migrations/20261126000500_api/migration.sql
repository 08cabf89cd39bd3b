-- A5: Idempotency-Key records for REST writes. One row per (user, route, key), kept 24 h: the
-- same key with the same request answers the stored response again; with a different request,
-- 422 idempotency_mismatch. The row is inserted first in the request's own transaction, so a
-- concurrent duplicate waits on the primary key and then sees the finished answer.
CREATE TABLE IF NOT EXISTS idempotency_keys (
  user_id       uuid NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
  -- The route the key belongs to (e.g. 'A5'): one key never replays another route's answer.
  scope         text NOT NULL,
  key           text NOT NULL CHECK (char_length(key) BETWEEN 1 AND 255),
  -- sha256 of the canonical JSON of the validated request body.
  request_hash  text NOT NULL,
  -- NULL only while the first request's transaction is still running.
  status_code   integer,
  response      jsonb,
  created_at    timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz NOT NULL,
  PRIMARY KEY (user_id, scope, key)
);
-- Expired rows are overwritten on reuse and deleted by the owner's next keyed request.
CREATE INDEX IF NOT EXISTS idempotency_keys_expires_idx ON idempotency_keys (expires_at);
