#!/usr/bin/env bash
# (Re)start PgBouncer on 127.0.0.1:6432 with infra/pgbouncer.ini, as the postgres OS user
# (PgBouncer refuses to run as root), daemonised, with its run dir (ini copy, auth file,
# pidfile, log, unix socket) in PGBOUNCER_RUN_DIR (default /tmp/potentia-pgbouncer).
# A PgBouncer already listening on 6432 is stopped first so that ours, with our config,
# is the one running. Any other program on 6432 is an error.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DEFAULT_RUN_DIR=/tmp/potentia-pgbouncer
RUN_DIR=${PGBOUNCER_RUN_DIR:-$DEFAULT_RUN_DIR}
PORT=6432
PGBOUNCER_BIN=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)
[ -x "$PGBOUNCER_BIN" ] || ci_die "pgbouncer: binary not found (apt-get install pgbouncer)"

listener_pids() {
  ss -Hltnp "sport = :$PORT" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u
}

admin_ok() {
  psql -X -h 127.0.0.1 -p "$PORT" -U postgres -d pgbouncer -qAt -c 'SHOW VERSION' </dev/null
}

# 1. Stop whatever PgBouncer already listens on the port (ours from an earlier run, or a
#    packaged one started with /etc/pgbouncer/pgbouncer.ini).
pids=$(listener_pids || true)
if [ -z "$pids" ] && [ -r "$RUN_DIR/pgbouncer.pid" ]; then
  pid=$(cat "$RUN_DIR/pgbouncer.pid" 2>/dev/null || true)
  if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null || true)" = pgbouncer ]; then pids=$pid; fi
fi
for pid in $pids; do
  comm=$(cat "/proc/$pid/comm" 2>/dev/null || true)
  [ "$comm" = pgbouncer ] || ci_die "pgbouncer: port $PORT is held by '$comm' (pid $pid), not PgBouncer"
  ci_log "pgbouncer: stopping running PgBouncer (pid $pid) to restart it with our config"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  if kill -0 "$pid" 2>/dev/null; then
    ci_warn "pgbouncer: pid $pid ignored SIGTERM, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
done
ci_wait_for 10 test -z "$(listener_pids)" || ci_die "pgbouncer: port $PORT still busy"

# 2. Lay out the run dir, readable and writable by postgres.
mkdir -p "$RUN_DIR"
rm -f "$RUN_DIR/pgbouncer.pid"
sed "s#$DEFAULT_RUN_DIR#$RUN_DIR#g" "$ROOT/infra/pgbouncer.ini" >"$RUN_DIR/pgbouncer.ini"
cp "$ROOT/infra/userlist.txt" "$RUN_DIR/userlist.txt"
: >>"$RUN_DIR/pgbouncer.log"
if [ "$(id -u)" -eq 0 ]; then
  chown -R postgres:postgres "$RUN_DIR"
fi
chmod 700 "$RUN_DIR"
chmod 600 "$RUN_DIR/pgbouncer.ini" "$RUN_DIR/userlist.txt"

# 3. Start it daemonised as postgres and wait for the admin console.
log_offset=$(wc -c <"$RUN_DIR/pgbouncer.log")
ci_log "pgbouncer: starting $("$PGBOUNCER_BIN" --version | head -1) from $RUN_DIR/pgbouncer.ini"
# max_client_conn = 1000 needs ~1012 descriptors: lift the soft limit (often 1024) inside
# the postgres shell, since runuser's PAM session resets limits set out here.
(
  cd "$RUN_DIR"
  ci_as_postgres /bin/sh -c 'ulimit -n 4096 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" -d "$1"' \
    "$PGBOUNCER_BIN" "$RUN_DIR/pgbouncer.ini" </dev/null
)
if ! ci_wait_for 15 admin_ok; then
  tail -c +"$((log_offset + 1))" "$RUN_DIR/pgbouncer.log" | tail -30 >&2 || true
  ci_die "pgbouncer: admin console on 127.0.0.1:$PORT did not answer"
fi
ci_log "pgbouncer: up on 127.0.0.1:$PORT (pid $(cat "$RUN_DIR/pgbouncer.pid" 2>/dev/null || echo '?'), log $RUN_DIR/pgbouncer.log)"

# 4. Prove a query goes through it to the server, and show the pools.
via=$(psql -X -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -qAt -c 'SELECT current_database()' </dev/null) ||
  ci_die "pgbouncer: a query through 127.0.0.1:$PORT failed"
[ "$via" = postgres ] || ci_die "pgbouncer: unexpected answer '$via' through $PORT"
psql -X -h 127.0.0.1 -p "$PORT" -U postgres -d pgbouncer -c 'SHOW POOLS' </dev/null
