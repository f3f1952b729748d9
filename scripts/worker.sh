#!/usr/bin/env bash
# The procrastinate background worker that `make run` starts and `make stop` stops.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p var
PIDFILE=var/worker.pid
case "${1:-start}" in
  start)
    if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then exit 0; fi
    nohup .venv/bin/python manage.py procrastinate worker >var/worker.log 2>&1 &
    echo $! > "$PIDFILE"
    echo "background worker started (pid $(cat "$PIDFILE"), log var/worker.log)"
    ;;
  stop)
    if [ -f "$PIDFILE" ]; then kill "$(cat "$PIDFILE")" 2>/dev/null || true; rm -f "$PIDFILE"; fi
    ;;
esac
