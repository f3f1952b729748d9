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
    if [ -f "$PIDFILE" ]; then
      pid=$(cat "$PIDFILE")
      kill "$pid" 2>/dev/null || true
      # A graceful stop finishes the job at hand; wait for it (at most 30 s) before the
      # database goes down under it in `make stop`.
      for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      rm -f "$PIDFILE"
    fi
    ;;
esac
