#!/usr/bin/env bash
# Install the Debian packages CI needs, idempotently: nothing touches apt unless a
# package is missing, and then it is one `apt-get update` and one `apt-get install`.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# pgbouncer                 transaction pooler in front of PostgreSQL (integration stage)
# postgresql-server-dev-15  pg_config + server headers to build pgvector for PostgreSQL 15
# build-essential           gcc/make/libc headers for that build
# dpkg-dev                  dpkg-source, used by `apt-get source pgvector`
# chromium                  headless browser for the Playwright e2e stage (/usr/bin/chromium)
PACKAGES=(pgbouncer postgresql-server-dev-15 build-essential dpkg-dev chromium)

missing=()
for p in "${PACKAGES[@]}"; do
  if [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)" != installed ]; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  ci_log "apt: all present (${PACKAGES[*]})"
  exit 0
fi

[ "$(id -u)" -eq 0 ] || ci_die "apt: missing ${missing[*]} and not root"
ci_log "apt: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q </dev/null
apt-get install -y -q --no-install-recommends \
  -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
  "${missing[@]}" </dev/null
ci_log "apt: done"
