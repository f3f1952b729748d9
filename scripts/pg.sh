#!/usr/bin/env bash
# The project-local PostGIS cluster: `pg.sh start | stop | status | url`.
# Lives under var/pg, listens on 127.0.0.1:$GRIDGOV_PG_PORT (default: var/pg_port if that file
# exists, so several checkouts on one machine can each keep their own; else 54329) only, with a
# generated password. initdb refuses to run as root, so as root the cluster runs as the
# unprivileged `postgres` user that Debian's package creates.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
VAR="$ROOT/var"
PGDATA="$VAR/pg/data"
PGRUN="$VAR/pg/run"
PORT=${GRIDGOV_PG_PORT:-$(cat "$VAR/pg_port" 2>/dev/null || echo 54329)}
DBNAME=gridgov
DBUSER=gridgov

major=$(ls -d /usr/share/postgresql/*/extension/postgis.control 2>/dev/null | sed -E 's#.*/postgresql/([0-9]+)/.*#\1#' | sort -n | tail -1)
[ -n "$major" ] || { echo "pg.sh: PostGIS is not installed (run scripts/bootstrap.sh)" >&2; exit 1; }
BIN=/usr/lib/postgresql/$major/bin

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

cmd=${1:-start}
case "$cmd" in
  start)
    mkdir -p "$VAR/pg"
    if [ ! -s "$PGDATA/PG_VERSION" ]; then
      mkdir -p "$PGDATA" "$PGRUN"
      umask 077
      head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$VAR/pg/password"
      if [ "$(id -u)" -eq 0 ]; then
        chown -R postgres:postgres "$VAR/pg"
        # The postgres user must be able to reach var/pg through the checkout's folders.
        runuser -u postgres -- test -x "$VAR/pg" || { echo "pg.sh: user postgres cannot reach $VAR/pg; move the checkout somewhere world-traversable or set DATABASE_URL" >&2; exit 1; }
      fi
      pwfile=$(mktemp); echo "$(cat "$VAR/pg/password")" > "$pwfile"; chmod 644 "$pwfile"
      as_owner "$BIN/initdb" -D "$PGDATA" -U "$DBUSER" --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 \
        --auth-local=scram-sha-256 --auth-host=scram-sha-256 >"$VAR/pg/initdb.log"
      rm -f "$pwfile"
      cat >> "$PGDATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$PGRUN'
max_connections = 200
shared_buffers = 512MB
work_mem = 32MB
maintenance_work_mem = 256MB
fsync = on
logging_collector = off
CONF
    fi
    if ! as_owner "$BIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
      as_owner "$BIN/pg_ctl" -D "$PGDATA" -l "$VAR/pg/server.log" -w -t 60 start >/dev/null
    fi
    export PGPASSWORD=$(cat "$VAR/pg/password")
    if ! psql -h 127.0.0.1 -p "$PORT" -U "$DBUSER" -d postgres -tAc "select 1 from pg_database where datname='$DBNAME'" | grep -q 1; then
      psql -h 127.0.0.1 -p "$PORT" -U "$DBUSER" -d postgres -qc "create database $DBNAME"
    fi
    psql -h 127.0.0.1 -p "$PORT" -U "$DBUSER" -d "$DBNAME" -qc "create extension if not exists postgis" 2>&1 | grep -v NOTICE || true
    echo "postgres://$DBUSER:$(cat "$VAR/pg/password")@127.0.0.1:$PORT/$DBNAME" > "$VAR/database_url"
    ;;
  stop)
    if [ -s "$PGDATA/PG_VERSION" ]; then
      as_owner "$BIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null 2>&1 || true
    fi
    ;;
  restart)
    as_owner "$BIN/pg_ctl" -D "$PGDATA" -m fast -w -t 60 restart -l "$VAR/pg/server.log" >/dev/null
    ;;
  status)
    as_owner "$BIN/pg_ctl" -D "$PGDATA" status
    ;;
  *) echo "usage: pg.sh start|stop|restart|status" >&2; exit 2;;
esac
