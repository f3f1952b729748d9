#!/usr/bin/env bash
# Static files (collectstatic: WhiteNoise serves var/staticfiles compressed) and compiled
# translations (.mo), each rebuilt only when its sources changed since the last build, so a
# second `make run` does not spend half a minute recompressing the same files.
set -euo pipefail
cd "$(dirname "$0")/.."
VAR=${GRIDGOV_VAR_DIR:-var}
mkdir -p "$VAR/staticfiles"
# Sources: our static/ tree, and the installed packages' static files (they change with the
# requirements, which .venv/.requirements.sha fingerprints).
want=$( (find static -type f -printf '%p %s %T@\n' | sort; cat .venv/.requirements.sha 2>/dev/null) | sha256sum | cut -d' ' -f1)
if [ "$(cat "$VAR/staticfiles/.sources.sha" 2>/dev/null)" != "$want" ]; then
  .venv/bin/python manage.py collectstatic --noinput -v 0
  echo "$want" > "$VAR/staticfiles/.sources.sha"
fi
for po in locale/*/LC_MESSAGES/django.po; do
  mo=${po%.po}.mo
  if [ ! -f "$mo" ] || [ "$po" -nt "$mo" ]; then
    .venv/bin/python manage.py compilemessages -v 0 --ignore=.venv --ignore=var
    break
  fi
done
