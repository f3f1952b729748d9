#!/usr/bin/env bash
# The production web server of `make run`: gunicorn (scripts/gunicorn.conf.py) in the
# background, `server.sh start | stop | status`. Logs in var/gunicorn.log; the pid in
# var/gunicorn.pid. `start` on a running server restarts it (picks up new code).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p var
PIDFILE=var/gunicorn.pid
PORT=${PORT:-8000}
HOST=${HOST:-127.0.0.1}
running() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }
stop() {
  if running; then
    pid=$(cat "$PIDFILE")
    kill -TERM "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$PIDFILE"
}
case "${1:-start}" in
  start)
    stop
    PORT=$PORT HOST=$HOST .venv/bin/gunicorn -c scripts/gunicorn.conf.py --daemon --pid "$PIDFILE" \
      --error-logfile var/gunicorn.log --access-logfile var/gunicorn-access.log
    url="http://$HOST:$PORT"
    for _ in $(seq 1 150); do
      if .venv/bin/python -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)" "$url/healthz" 2>/dev/null; then
        echo "GridGov serving at $url/ (gunicorn, pid $(cat "$PIDFILE"), log var/gunicorn.log; make stop to stop)"
        exit 0
      fi
      sleep 0.2
    done
    echo "server.sh: gunicorn did not answer $url/healthz; see var/gunicorn.log" >&2
    tail -20 var/gunicorn.log >&2 || true
    exit 1
    ;;
  stop) stop ;;
  status) if running; then echo "gunicorn running (pid $(cat "$PIDFILE"))"; else echo "gunicorn not running"; exit 1; fi ;;
  *) echo "usage: server.sh start|stop|status" >&2; exit 2 ;;
esac
