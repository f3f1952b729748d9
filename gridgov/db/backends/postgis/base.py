"""PostGIS backend that waits out a database restart instead of failing the request.

While PostgreSQL restarts (a failover, a minor upgrade, `pg_ctl restart`) new connections are
refused or told "the database system is starting up" for a second or two. Django would turn
each such request into a 500. Here opening a connection is retried with backoff for up to
`DB_CONNECT_RETRY_SECONDS` (default 10; 0 turns it off), so the request waits and then gets
its answer. Only *opening* a connection is retried: no statement has run on it yet, so
nothing can happen twice.
"""

from __future__ import annotations

import os
import time

import psycopg
from django.contrib.gis.db.backends.postgis.base import DatabaseWrapper as PostGISDatabaseWrapper

RETRY_SECONDS = float(os.environ.get("DB_CONNECT_RETRY_SECONDS", "10"))
# A refused connection, "the database system is starting up / shutting down", a reset: the
# server is away for a moment. Configuration errors fail at once.
PERMANENT = ("authentication failed", "does not exist", "no pg_hba.conf entry", "permission denied", "SSL")


class DatabaseWrapper(PostGISDatabaseWrapper):
    def get_new_connection(self, conn_params):
        deadline = time.monotonic() + RETRY_SECONDS
        delay = 0.05
        while True:
            try:
                return super().get_new_connection(conn_params)
            except psycopg.OperationalError as exc:
                if any(p in str(exc) for p in PERMANENT) or time.monotonic() + delay > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
