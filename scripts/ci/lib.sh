# shellcheck shell=bash
# Shared helpers for .ci/run and scripts/ci/*.sh. Source it; do not execute it.

ci_ts() { date -u '+%Y-%m-%dT%H:%M:%SZ'; }
ci_log() { printf '[%s] %s\n' "$(ci_ts)" "$*"; }
ci_warn() { printf '[%s] WARNING: %s\n' "$(ci_ts)" "$*" >&2; }
ci_die() { printf '[%s] ERROR: %s\n' "$(ci_ts)" "$*" >&2; exit 1; }

# Run a command as the postgres OS user (PgBouncer and initdb refuse to run as root).
ci_as_postgres() {
  if [ "$(id -un)" = postgres ]; then
    "$@"
  elif command -v runuser >/dev/null 2>&1; then
    runuser -u postgres -- "$@"
  else
    su postgres -s /bin/sh -c "$(printf '%q ' "$@")"
  fi
}

# Wait up to $1 seconds for "${@:2}" to succeed (quietly).
ci_wait_for() {
  local secs=$1; shift
  local i
  for ((i = 0; i < secs * 2; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  return 1
}
