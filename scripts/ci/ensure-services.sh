#!/usr/bin/env bash
# Make sure PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) answer; start them
# with this machine kind's own commands (see the machine notes) if they do not.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432; }
redis_up() { [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = PONG ]; }

if pg_up; then
  ci_log "postgres: up on 127.0.0.1:5432"
else
  ci_log "postgres: not answering, starting it"
  # shellcheck disable=SC2046
  pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start </dev/null || true
  ci_wait_for 60 pg_up || ci_die "postgres did not come up on 127.0.0.1:5432"
  ci_log "postgres: started"
fi

if redis_up; then
  ci_log "redis: up on 127.0.0.1:6379"
else
  ci_log "redis: not answering, starting it"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log </dev/null
  ci_wait_for 30 redis_up || ci_die "redis did not come up on 127.0.0.1:6379"
  ci_log "redis: started"
fi
