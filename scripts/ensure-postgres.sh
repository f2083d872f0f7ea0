#!/usr/bin/env bash
# The PostgreSQL store's tests make a throw-away cluster with Debian's PostgreSQL server binaries (initdb,
# pg_ctl). Installs them with apt when absent, so `npm ci && npm test` works on a fresh machine. No cluster
# of the system's is used: the tests make their own in a temporary folder (test/support/postgres.ts).
set -euo pipefail
has_initdb() {
  [ -n "${PG_BINDIR:-}" ] && [ -x "$PG_BINDIR/initdb" ] && return 0
  if command -v pg_config >/dev/null 2>&1; then
    local bindir
    bindir="$(pg_config --bindir 2>/dev/null || true)"
    [ -n "$bindir" ] && [ -x "$bindir/initdb" ] && return 0
  fi
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null && return 0
  command -v initdb >/dev/null 2>&1
}
has_initdb && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo 'installing Debian postgresql for the PostgreSQL store tests (apt-get)...'
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  has_initdb && exit 0
  echo 'apt-get installed postgresql but no initdb was found under /usr/lib/postgresql/*/bin.' >&2
  exit 1
fi
echo 'The PostgreSQL store tests need the PostgreSQL server binaries (initdb, pg_ctl): run "sudo apt-get install postgresql" (Debian/Ubuntu), or set PG_BINDIR to the folder holding initdb.' >&2
exit 1
