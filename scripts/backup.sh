#!/usr/bin/env bash
# `backup.sh [FILE]`: one tar holding a pg_dump -Fc of the database and a tar of MEDIA_ROOT.
# The database is read as its owner: DATABASE_OWNER_URL, else DATABASE_URL, else the project-local
# cluster's var/database_owner_url; media is MEDIA_ROOT, else var/media. FILE defaults to
# var/backups/gridgov-<UTC time>.tar.
# pg_dump takes a consistent snapshot while the server keeps serving; photos are stored under
# their content hash and never rewritten, so a media tar taken right after the dump holds every
# file the dump refers to.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
URL=${DATABASE_OWNER_URL:-${DATABASE_URL:-$(cat "$ROOT/var/database_owner_url" 2>/dev/null || true)}}
[ -n "$URL" ] || { echo "backup.sh: no database (set DATABASE_URL or run make db)" >&2; exit 1; }
MEDIA=${MEDIA_ROOT:-$ROOT/var/media}
FILE=${1:-$ROOT/var/backups/gridgov-$(date -u +%Y%m%dT%H%M%SZ).tar}
major=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sed -E 's#.*/postgresql/([0-9]+)/bin#\1#' | sort -n | tail -1)
BIN=${PG_BIN:-/usr/lib/postgresql/$major/bin}

mkdir -p "$(dirname "$FILE")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$BIN/pg_dump" -Fc --no-owner --no-privileges -f "$work/database.dump" "$URL"
mkdir -p "$MEDIA"
tar -C "$MEDIA" -cf "$work/media.tar" .
{
  echo "format=gridgov-backup-1"
  echo "created=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "database=$(echo "$URL" | sed -E 's#.*/##; s#\?.*##')"
  echo "media_files=$(tar -tf "$work/media.tar" | grep -vc '/$' || true)"
  sha256sum "$work/database.dump" "$work/media.tar" | sed "s#$work/##"
} > "$work/MANIFEST"
tar -C "$work" -cf "$FILE.part" MANIFEST database.dump media.tar
mv "$FILE.part" "$FILE"
echo "backup written to $FILE ($(du -h "$FILE" | cut -f1))"
