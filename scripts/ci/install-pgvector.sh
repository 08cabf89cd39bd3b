#!/usr/bin/env bash
# Build and install pgvector into the server PostgreSQL 15 when `vector` is not in
# pg_available_extensions. Debian 12 does not package pgvector for PostgreSQL 15, so it is
# built from Debian's own source package of the trixie suite, fetched with a PRIVATE apt
# configuration (temporary sources list, lists and cache dirs): the machine's apt setup is
# not touched. The archive URI is read at run time from the machine's own apt sources.
# Needs root (make install), postgresql-server-dev-15, build-essential and dpkg-dev.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
PGVECTOR_SUITE=${PGVECTOR_SUITE:-trixie}
PGHOST_ARGS=(-h 127.0.0.1 -p 5432 -U postgres)

psql_q() { PGOPTIONS='-c client_min_messages=warning' psql "${PGHOST_ARGS[@]}" -X -v ON_ERROR_STOP=1 -qAt "$@"; }

available() {
  [ -n "$(psql_q -d postgres -c "SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")" ]
}

# The URI of the machine's main Debian archive: the deb822 stanza in debian.sources whose
# Suites list the OS codename (falls back to a one-line sources.list entry).
debian_archive_uri() {
  local codename
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  local f=/etc/apt/sources.list.d/debian.sources
  if [ -r "$f" ]; then
    awk -v want="$codename" '
      function flush() { if (!found && uri != "" && hit) { print uri; found = 1 } uri = ""; hit = 0 }
      /^[[:space:]]*$/ { flush(); next }
      /^[[:space:]]*#/ { next }
      tolower($1) == "uris:" { uri = $2 }
      tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == want) hit = 1 }
      END { flush() }
    ' "$f"
    return
  fi
  if [ -r /etc/apt/sources.list ]; then
    awk -v want="$codename" '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\// && $(i+1) == want) { print $i; exit } }' /etc/apt/sources.list
  fi
}

verify() {
  local db="pgvector_check_$$"
  psql_q -d postgres -c "DROP DATABASE IF EXISTS $db"
  psql_q -d postgres -c "CREATE DATABASE $db"
  local ok=0 ver=""
  if ver=$(psql_q -d "$db" -c "CREATE EXTENSION vector" \
    -c "SELECT extversion FROM pg_extension WHERE extname = 'vector'") &&
    psql_q -d "$db" -c "SELECT '[1,2,3]'::vector <=> '[1,2,4]'::vector" >/dev/null; then
    ok=1
  fi
  psql_q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"
  [ "$ok" = 1 ] || ci_die "pgvector: CREATE EXTENSION vector failed in a scratch database"
  ci_log "pgvector: CREATE EXTENSION vector works (version $ver; scratch database dropped)"
}

if available; then
  ci_log "pgvector: 'vector' already in pg_available_extensions, nothing to build"
  verify
  exit 0
fi

[ "$(id -u)" -eq 0 ] || ci_die "pgvector: must run as root to install into PostgreSQL"
[ -x "$PG_CONFIG" ] || ci_die "pgvector: $PG_CONFIG missing (install postgresql-server-dev-15)"
command -v dpkg-source >/dev/null || ci_die "pgvector: dpkg-source missing (install dpkg-dev)"

uri=$(debian_archive_uri)
[ -n "$uri" ] || ci_die "pgvector: could not read the Debian archive URI from the apt sources"

work=$(mktemp -d /tmp/pgvector-build.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/apt/sources.list.d" "$work/apt/lists/partial" "$work/apt/cache/archives/partial" "$work/src"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
printf 'deb-src [signed-by=%s] %s %s main\n' "$keyring" "$uri" "$PGVECTOR_SUITE" >"$work/apt/sources.list"

APT_PRIVATE=(
  -o "Dir::Etc::SourceList=$work/apt/sources.list"
  -o "Dir::Etc::SourceParts=$work/apt/sources.list.d"
  -o "Dir::State::Lists=$work/apt/lists"
  -o "Dir::Cache=$work/apt/cache"
  -o "Dir::Cache::archives=$work/apt/cache/archives"
  -o "APT::Sandbox::User=root"
)

ci_log "pgvector: fetching the $PGVECTOR_SUITE source package with a private apt config"
apt-get "${APT_PRIVATE[@]}" -q update </dev/null
(cd "$work/src" && apt-get "${APT_PRIVATE[@]}" -q source pgvector </dev/null)

srcdir=$(find "$work/src" -mindepth 1 -maxdepth 1 -type d -name 'pgvector-*' | head -1)
[ -n "$srcdir" ] || ci_die "pgvector: apt-get source produced no pgvector-* directory"
ci_log "pgvector: building $(basename "$srcdir") against $("$PG_CONFIG" --version)"
make -C "$srcdir" -j"$(nproc)" PG_CONFIG="$PG_CONFIG" with_llvm=no OPTFLAGS="" >"$work/build.log" 2>&1 ||
  { tail -50 "$work/build.log"; ci_die "pgvector: build failed"; }
make -C "$srcdir" PG_CONFIG="$PG_CONFIG" with_llvm=no OPTFLAGS="" install >>"$work/build.log" 2>&1 ||
  { tail -50 "$work/build.log"; ci_die "pgvector: make install failed"; }

available || ci_die "pgvector: installed, but 'vector' is still not in pg_available_extensions"
ci_log "pgvector: installed into $("$PG_CONFIG" --sharedir)/extension and $("$PG_CONFIG" --pkglibdir)"
verify
