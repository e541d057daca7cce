#!/usr/bin/env bash
# Project-local PostgreSQL + PostGIS cluster: install (Debian packages), init, start, stop, status.
#
#   scripts/pg.sh up            install when missing, init when new, start (idempotent)
#   scripts/pg.sh down          stop the cluster
#   scripts/pg.sh status        say whether it runs
#   scripts/pg.sh createdb NAME create a database with the postgis extension (idempotent)
#   scripts/pg.sh dropdb NAME   drop a database
#
# The cluster lives in .local/pg (git-ignored) and runs as the `postgres` user when started by
# root (PostgreSQL refuses to run as root). It listens on 127.0.0.1:$LANDREG_PG_PORT (5433 by
# default, so it never clashes with a system cluster) and trusts local connections only.
#
# It is durable: fsync, full_page_writes and synchronous_commit are on, so a power cut cannot
# lose or corrupt the register `make run` serves. The settings live in landreg.conf (rewritten on
# every `up`, so a cluster made by an older version with fsync=off is made durable on its next
# start). The test suite shares the cluster but turns synchronous_commit off for its own
# throwaway databases only (tests/conftest.py): their commits need not wait for the disk.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PORT=${LANDREG_PG_PORT:-5433}
PGVER=15
PGBIN=/usr/lib/postgresql/$PGVER/bin
DATA=$ROOT/.local/pg/data
RUN=$ROOT/.local/pg/run
LOG=$ROOT/.local/pg/postgres.log

say() { echo "landreg-pg: $*" >&2; }

as_owner() {
  # Run a command as the cluster owner: `postgres` when we are root, ourselves otherwise.
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

install_packages() {
  if [ -x "$PGBIN/initdb" ] && [ -f "/usr/share/postgresql/$PGVER/extension/postgis.control" ] &&
     [ -f "/usr/share/postgresql/$PGVER/extension/pgrouting.control" ]; then
    return
  fi
  if [ "$(id -u)" != 0 ]; then
    say "PostgreSQL $PGVER with PostGIS and pgRouting is missing; run once as root or: sudo apt-get install postgresql-$PGVER postgresql-$PGVER-postgis-3 postgresql-$PGVER-pgrouting"
    exit 1
  fi
  # pgRouting (road drive times, isochrones: landreg/routing) is Debian's build for the same server.
  say "installing postgresql-$PGVER, postgresql-$PGVER-postgis-3 and postgresql-$PGVER-pgrouting from Debian (once)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "postgresql-$PGVER" "postgresql-$PGVER-postgis-3" \
    "postgresql-$PGVER-pgrouting" >/dev/null
}

grant_traverse() {
  # The postgres user must be able to reach .local/pg. A clone in a private folder (mktemp -d
  # gives 0700) blocks it: add only the search bit (o+x) to the blocking ancestors, and say so.
  [ "$(id -u)" = 0 ] || return 0
  local d=$ROOT/.local
  while [ "$d" != / ]; do
    if ! runuser -u postgres -- test -x "$d" 2>/dev/null; then
      say "granting o+x on $d so the postgres user can reach the cluster"
      chmod o+x "$d"
    fi
    d=$(dirname "$d")
  done
}

init_cluster() {
  mkdir -p "$ROOT/.local/pg"
  grant_traverse
  if [ -f "$DATA/PG_VERSION" ]; then return; fi
  mkdir -p "$DATA" "$RUN"
  [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$ROOT/.local/pg"
  say "initialising a new cluster in $DATA"
  as_owner "$PGBIN/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
}

write_conf() {
  # landreg's settings, included last so they win over anything earlier in postgresql.conf
  # (clusters made before landreg.conf had fsync=off appended there).
  grep -q "^include_if_exists = 'landreg.conf'" "$DATA/postgresql.conf" ||
    echo "include_if_exists = 'landreg.conf'" | as_owner tee -a "$DATA/postgresql.conf" >/dev/null
  as_owner tee "$DATA/landreg.conf.new" >/dev/null <<CONF
# landreg: the project-local cluster (written by scripts/pg.sh; edits are overwritten)
listen_addresses = '127.0.0.1'
unix_socket_directories = '$RUN'
shared_buffers = 256MB
max_connections = 200
# durable: a crash or power cut loses nothing committed and never half-writes a page
fsync = on
full_page_writes = on
synchronous_commit = on
CONF
  if cmp -s "$DATA/landreg.conf.new" "$DATA/landreg.conf"; then
    rm -f "$DATA/landreg.conf.new"
  else
    as_owner mv "$DATA/landreg.conf.new" "$DATA/landreg.conf"
    if is_running; then  # fsync and full_page_writes take effect on reload
      say "durable settings written; reloading"
      as_owner "$PGBIN/pg_ctl" -D "$DATA" reload >/dev/null
    fi
  fi
}

is_running() {
  as_owner "$PGBIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1
}

start() {
  if is_running; then return; fi
  mkdir -p "$RUN"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$RUN" "$ROOT/.local/pg"
  say "starting PostgreSQL on 127.0.0.1:$PORT"
  as_owner "$PGBIN/pg_ctl" -D "$DATA" -l "$LOG" -o "-p $PORT" -w -t 60 start >/dev/null || {
    say "PostgreSQL did not start; the end of $LOG says:"; tail -n 20 "$LOG" >&2; exit 1; }
}

psql_admin() {
  PGOPTIONS="-c client_min_messages=warning" "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres "$@"
}

createdb_postgis() {
  local name=$1
  if ! psql_admin -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$name'" | grep -q 1; then
    psql_admin -d postgres -c "CREATE DATABASE \"$name\""
  fi
  psql_admin -d "$name" -c "CREATE EXTENSION IF NOT EXISTS postgis"
  psql_admin -d "$name" -c "CREATE EXTENSION IF NOT EXISTS pgrouting"
}

case "${1:-}" in
  up) install_packages; init_cluster; write_conf; start ;;
  down) if [ -f "$DATA/PG_VERSION" ] && is_running; then
          as_owner "$PGBIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null; say "stopped"; fi ;;
  status) if [ -f "$DATA/PG_VERSION" ] && is_running; then echo "running on 127.0.0.1:$PORT ($DATA)";
          else echo "not running"; exit 3; fi ;;
  createdb) createdb_postgis "${2:?database name}" ;;
  dropdb) psql_admin -d postgres -c "DROP DATABASE IF EXISTS \"${2:?database name}\" WITH (FORCE)" ;;
  *) echo "usage: $0 up|down|status|createdb NAME|dropdb NAME" >&2; exit 2 ;;
esac
