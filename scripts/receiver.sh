#!/usr/bin/env bash
# The HJ 212-2017 receiver that `make run` starts and `make stop` stops: receiver.sh start|stop|status.
# Listens on ${HJ212_HOST:-127.0.0.1}:${HJ212_PORT:-9212}. With HJ212_DEMO_FEED=1 (the default
# here, for the demo) it also starts the feed that keeps the demo's synthetic loggers talking.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p var
PIDFILE=var/receiver.pid
FEEDPID=var/receiver-feed.pid
running() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
case "${1:-start}" in
  start)
    if ! running "$PIDFILE"; then
      nohup .venv/bin/python manage.py hj212_receiver >var/receiver.log 2>&1 &
      echo $! > "$PIDFILE"
      echo "HJ 212 receiver started on ${HJ212_HOST:-127.0.0.1}:${HJ212_PORT:-9212} (pid $(cat "$PIDFILE"), log var/receiver.log)"
    fi
    if [ "${HJ212_DEMO_FEED:-1}" = "1" ] && ! running "$FEEDPID"; then
      nohup .venv/bin/python manage.py hj212_demo_feed >var/receiver-feed.log 2>&1 &
      echo $! > "$FEEDPID"
      echo "demo logger feed started (pid $(cat "$FEEDPID"), log var/receiver-feed.log)"
    fi
    ;;
  stop)
    for f in "$FEEDPID" "$PIDFILE"; do
      if [ -f "$f" ]; then kill "$(cat "$f")" 2>/dev/null || true; rm -f "$f"; fi
    done
    ;;
  status)
    if running "$PIDFILE"; then echo "receiver running (pid $(cat "$PIDFILE"))"; else echo "receiver stopped"; exit 3; fi
    if running "$FEEDPID"; then echo "demo feed running (pid $(cat "$FEEDPID"))"; fi
    ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
