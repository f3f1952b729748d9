#!/usr/bin/env bash
# Refresh the English catalogue from the code and templates, then list what has no English yet.
# The .po file is the source of truth: write each translation into its msgstr (by hand or with
# polib). Compiled .mo files are build output (`make migrate` runs compilemessages).
set -euo pipefail
cd "$(dirname "$0")/.."
# Branches merged with merge=union may both have added one msgid: keep its first translation.
.venv/bin/python - <<'PY'
import polib
path = "locale/en/LC_MESSAGES/django.po"
po = polib.pofile(path)
seen, dupes = {}, []
for entry in po:
    key = (entry.msgctxt, entry.msgid)
    if key in seen:
        if not seen[key].msgstr and entry.msgstr:
            seen[key].msgstr = entry.msgstr
        dupes.append(entry)
    else:
        seen[key] = entry
for entry in dupes:
    po.remove(entry)
if dupes:
    po.save(path)
    print(f"{len(dupes)} duplicate entries merged")
PY
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
