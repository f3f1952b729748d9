#!/usr/bin/env bash
# The project-local PostGIS cluster: `pg.sh start | stop | restart | status`.
# Lives under var/pg (GRIDGOV_VAR_DIR/pg), listens on 127.0.0.1:$GRIDGOV_PG_PORT (default:
# var/pg_port if that file exists, so several checkouts on one machine can each keep their own;
# else 54329) only, with generated passwords. initdb refuses to run as root, so as root the
# cluster runs as the unprivileged `postgres` user that Debian's package creates.
#
# Three roles (docs/deployment.md): the cluster's superuser (set-up only: roles, extensions),
# gridgov_owner, which owns the database and its schema (migrations; CREATEDB for the test and
# bench databases), and gridgov_app, the runtime role of the server and worker: no superuser,
# not the owner, INSERT/SELECT only on the append-only tables (gridgov/db/roles.py, applied by
# every migrate). `start` writes var/database_url (gridgov_app) and var/database_owner_url.
# PostGIS is installed in template1, so every database the owner creates has it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
VAR=${GRIDGOV_VAR_DIR:-$ROOT/var}
PGDATA="$VAR/pg/data"
PGRUN="$VAR/pg/run"
PORT=${GRIDGOV_PG_PORT:-$(cat "$VAR/pg_port" 2>/dev/null || echo 54329)}
DBNAME=gridgov
OWNER=gridgov_owner
APP=gridgov_app

major=$(ls -d /usr/share/postgresql/*/extension/postgis.control 2>/dev/null | sed -E 's#.*/postgresql/([0-9]+)/.*#\1#' | sort -n | tail -1)
[ -n "$major" ] || { echo "pg.sh: PostGIS is not installed (run scripts/bootstrap.sh)" >&2; exit 1; }
BIN=/usr/lib/postgresql/$major/bin

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

new_password() { head -c 18 /dev/urandom | base64 | tr -d '/+='; }

# psql as the cluster's superuser: `su_psql DB SQL`.
su_psql() {
  PGPASSWORD=$(cat "$VAR/pg/password") psql -h 127.0.0.1 -p "$PORT" -U "$SUPERUSER" -d "$1" -v ON_ERROR_STOP=1 -qtAc "$2"
}

# Clusters made before the role split have one superuser named gridgov that owns everything.
superuser() { cat "$VAR/pg/superuser" 2>/dev/null || echo gridgov; }

# Give every object of a database made before the role split to the owner role.
TO_OWNER=$(cat <<SQL
DO \$\$
DECLARE r record; target oid := (SELECT oid FROM pg_roles WHERE rolname = '$OWNER');
BEGIN
  FOR r IN SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\_%' AND nspname <> 'information_schema'
             AND nspowner NOT IN (target, (SELECT oid FROM pg_roles WHERE rolname = 'pg_database_owner')) LOOP
    EXECUTE format('ALTER SCHEMA %I OWNER TO $OWNER', r.nspname);
  END LOOP;
  FOR r IN SELECT c.oid::regclass AS obj, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname NOT LIKE 'pg\_%' AND n.nspname <> 'information_schema' AND c.relowner <> target
              AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
              AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                                 AND d.deptype IN ('e', 'a', 'i')) LOOP
    EXECUTE format('ALTER %s %s OWNER TO $OWNER', CASE r.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'
      WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END, r.obj);
  END LOOP;
  FOR r IN SELECT p.oid::regprocedure AS obj, p.prokind FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname NOT LIKE 'pg\_%' AND n.nspname <> 'information_schema' AND p.proowner <> target
              AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                                 AND d.deptype = 'e') LOOP
    EXECUTE format('ALTER %s %s OWNER TO $OWNER', CASE r.prokind WHEN 'p' THEN 'PROCEDURE' WHEN 'a' THEN 'AGGREGATE'
      ELSE 'FUNCTION' END, r.obj);
  END LOOP;
  FOR r IN SELECT t.oid::regtype AS obj, t.typtype FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
            WHERE n.nspname NOT LIKE 'pg\_%' AND n.nspname <> 'information_schema' AND t.typowner <> target
              AND t.typtype IN ('e', 'd')
              AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid
                                 AND d.deptype = 'e') LOOP
    EXECUTE format('ALTER %s %s OWNER TO $OWNER', CASE r.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, r.obj);
  END LOOP;
END
\$\$
SQL
)

write_url() {  # write_url FILE USER PASSWORD
  (umask 077; echo "postgres://$2:$3@127.0.0.1:$PORT/$DBNAME" > "$1")
}

cmd=${1:-start}
case "$cmd" in
  start)
    mkdir -p "$VAR/pg"
    if [ ! -s "$PGDATA/PG_VERSION" ]; then
      mkdir -p "$PGDATA" "$PGRUN"
      umask 077
      new_password > "$VAR/pg/password"
      echo postgres > "$VAR/pg/superuser"
      if [ "$(id -u)" -eq 0 ]; then
        chown -R postgres:postgres "$VAR/pg"
        # The postgres user must be able to reach var/pg through the checkout's folders.
        runuser -u postgres -- test -x "$VAR/pg" || { echo "pg.sh: user postgres cannot reach $VAR/pg; move the checkout somewhere world-traversable or set DATABASE_URL" >&2; exit 1; }
      fi
      pwfile=$(mktemp); cat "$VAR/pg/password" > "$pwfile"; chmod 644 "$pwfile"
      as_owner "$BIN/initdb" -D "$PGDATA" -U postgres --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 \
        --auth-local=scram-sha-256 --auth-host=scram-sha-256 >"$VAR/pg/initdb.log"
      rm -f "$pwfile"
      cat >> "$PGDATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$PGRUN'
max_connections = 200
shared_buffers = ${GRIDGOV_PG_SHARED_BUFFERS:-512MB}
work_mem = 32MB
maintenance_work_mem = 256MB
fsync = on
logging_collector = off
CONF
    fi
    if ! as_owner "$BIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
      as_owner "$BIN/pg_ctl" -D "$PGDATA" -l "$VAR/pg/server.log" -w -t 60 start >/dev/null
    fi
    SUPERUSER=$(superuser)
    for role in owner app; do
      [ -s "$VAR/pg/${role}_password" ] || (umask 077; new_password > "$VAR/pg/${role}_password")
    done
    owner_pw=$(cat "$VAR/pg/owner_password"); app_pw=$(cat "$VAR/pg/app_password")
    for spec in "$OWNER:$owner_pw:CREATEDB" "$APP:$app_pw:NOCREATEDB"; do
      IFS=: read -r name pw createdb <<<"$spec"
      verb=CREATE
      [ -n "$(su_psql postgres "select 1 from pg_roles where rolname = '$name'")" ] && verb=ALTER
      su_psql postgres "$verb ROLE $name LOGIN NOSUPERUSER NOCREATEROLE NOREPLICATION NOBYPASSRLS $createdb PASSWORD '$pw'"
    done
    # The owner may end the runtime role's sessions: DROP DATABASE … WITH (FORCE) on a restore
    # target or a test database another process (a worker, a live server) still holds.
    su_psql postgres "grant pg_signal_backend to $OWNER" 2>&1 | grep -v NOTICE || true
    su_psql template1 "create extension if not exists postgis" 2>&1 | grep -v NOTICE || true
    if [ -z "$(su_psql postgres "select 1 from pg_database where datname = '$DBNAME'")" ]; then
      su_psql postgres "create database $DBNAME owner $OWNER"
    fi
    su_psql "$DBNAME" "create extension if not exists postgis" 2>&1 | grep -v NOTICE || true
    # Databases of a cluster made before the role split (and its test and bench databases)
    # belonged to the superuser: hand them to the owner role.
    for db in $(su_psql postgres "select datname from pg_database d join pg_roles r on r.oid = d.datdba
                                  where not datistemplate and datname <> 'postgres' and r.rolname <> '$OWNER'"); do
      su_psql postgres "alter database \"$db\" owner to $OWNER"
      su_psql "$db" "$TO_OWNER"
    done
    write_url "$VAR/database_url" "$APP" "$app_pw"
    write_url "$VAR/database_owner_url" "$OWNER" "$owner_pw"
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
