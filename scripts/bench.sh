#!/usr/bin/env bash
# Run every benchmark in bench/ (or the one named), each printing one BENCH line.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
if [ -n "${1:-}" ]; then
  files=("bench/$1.py")
else
  files=(bench/[a-z]*.py)
fi
for f in "${files[@]}"; do
  [ "$(basename "$f")" = "benchlib.py" ] && continue
  [ -f "$f" ] || { echo "no benchmark $f" >&2; exit 2; }
  .venv/bin/python "$f" || status=1
done
exit $status
