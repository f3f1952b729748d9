#!/usr/bin/env bash
# `restore.sh FILE`: restore a backup.sh file into a FRESH database and a media folder.
# Target database: RESTORE_DB (default <current database>_restore) on the server of the
# owner role's URL (DATABASE_OWNER_URL, else DATABASE_URL, else var/database_owner_url), which
# creates it and restores into it. It must not exist; FORCE=1 drops it first. The current
# database is never touched. Then the runtime role (DATABASE_URL's, else var/database_url's)
# gets its privileges (manage.py grant_runtime_role). Media go to RESTORE_MEDIA (default
# MEDIA_ROOT, else var/media); files are named by content hash, so extracting over existing
# media is safe. At the end it prints the DATABASE_URL to serve the restored copy.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
FILE=${1:?usage: restore.sh FILE}
[ -f "$FILE" ] || { echo "restore.sh: no such file $FILE" >&2; exit 1; }
URL=${DATABASE_OWNER_URL:-${DATABASE_URL:-$(cat "$ROOT/var/database_owner_url" 2>/dev/null || true)}}
[ -n "$URL" ] || { echo "restore.sh: no database server (set DATABASE_URL or run make db)" >&2; exit 1; }
RUNTIME_URL=${DATABASE_URL:-$(cat "$ROOT/var/database_url" 2>/dev/null || echo "$URL")}
CURRENT=$(echo "$URL" | sed -E 's#.*/##; s#\?.*##')
TARGET=${RESTORE_DB:-${CURRENT}_restore}
[[ "$TARGET" =~ ^[a-zA-Z_][a-zA-Z0-9_]*$ ]] || { echo "restore.sh: bad RESTORE_DB '$TARGET'" >&2; exit 1; }
[ "$TARGET" != "$CURRENT" ] || { echo "restore.sh: RESTORE_DB must differ from the current database" >&2; exit 1; }
SERVER_URL=$(echo "$URL" | sed -E "s#/[^/?]*(\?.*)?\$#/postgres#")
TARGET_URL=$(echo "$URL" | sed -E "s#/[^/?]*(\?.*)?\$#/$TARGET#")
TARGET_RUNTIME_URL=$(echo "$RUNTIME_URL" | sed -E "s#/[^/?]*(\?.*)?\$#/$TARGET#")
MEDIA=${RESTORE_MEDIA:-${MEDIA_ROOT:-$ROOT/var/media}}
major=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sed -E 's#.*/postgresql/([0-9]+)/bin#\1#' | sort -n | tail -1)
BIN=${PG_BIN:-/usr/lib/postgresql/$major/bin}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar -C "$work" -xf "$FILE" MANIFEST database.dump media.tar
grep -q '^format=gridgov-backup-1$' "$work/MANIFEST" || { echo "restore.sh: not a GridGov backup" >&2; exit 1; }
(cd "$work" && grep -E '^[0-9a-f]{64}  ' MANIFEST | sha256sum -c --quiet -) || { echo "restore.sh: checksum mismatch" >&2; exit 1; }

exists=$(psql "$SERVER_URL" -tAc "SELECT 1 FROM pg_database WHERE datname = '$TARGET'")
if [ -n "$exists" ]; then
  [ "${FORCE:-0}" = 1 ] || { echo "restore.sh: database $TARGET exists (FORCE=1 drops it)" >&2; exit 1; }
  psql "$SERVER_URL" -qc "DROP DATABASE \"$TARGET\" WITH (FORCE)"
fi
psql "$SERVER_URL" -qc "CREATE DATABASE \"$TARGET\""
# PostGIS comes with the new database (template1 has it on the project-local cluster) or is
# created here; the dump's own extension entries (and PostGIS's spatial_ref_sys, which the
# extension fills itself) belong to the superuser, so they are left out.
psql "$TARGET_URL" -qc "CREATE EXTENSION IF NOT EXISTS postgis" 2>&1 | grep -v NOTICE || true
"$BIN/pg_restore" -l "$work/database.dump" | grep -v -e ' EXTENSION ' -e 'TABLE DATA public spatial_ref_sys ' > "$work/toc"
"$BIN/pg_restore" --no-owner --no-privileges --exit-on-error -L "$work/toc" -d "$TARGET_URL" "$work/database.dump"
DATABASE_URL=$TARGET_RUNTIME_URL DATABASE_OWNER_URL=$TARGET_URL .venv/bin/python manage.py grant_runtime_role >/dev/null
mkdir -p "$MEDIA"
tar -C "$MEDIA" -xf "$work/media.tar" --no-same-owner --keep-newer-files 2>/dev/null || tar -C "$MEDIA" -xf "$work/media.tar" --no-same-owner
echo "restored into database $TARGET and media $MEDIA"
echo "serve it with: DATABASE_URL=$(echo "$TARGET_RUNTIME_URL" | sed -E 's#://([^:]+):[^@]*@#://\1:***@#') MEDIA_ROOT=$MEDIA"
