#!/usr/bin/env bash
# Refresh the English catalogue from the code and templates, then list what has no English yet.
# The .po file is the source of truth: write each translation into its msgstr (by hand or with
# polib). Compiled .mo files are build output (`make migrate` runs compilemessages).
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python manage.py makemessages -l en --no-location --no-obsolete \
  --ignore=.venv --ignore=var --ignore=static/vendor --ignore=tests --ignore=bench --ignore=reliability -v 0
.venv/bin/python - <<'PY'
import polib
po = polib.pofile("locale/en/LC_MESSAGES/django.po")
todo = [e.msgid for e in po if e.translated() is False and not e.obsolete]
for msgid in todo:
    print(f"no English for: {msgid!r}")
print(f"{len(po)} messages, {len(todo)} without English")
PY
