"""Hot statements as server-side prepared statements, on Django's own connection.

Django binds parameters on the client and never prepares, so the hottest reads (locate, the
token look-up, site analysis) would be planned anew on every call, which costs more than
running them. These helpers run such a statement through a server-binding psycopg cursor with
`prepare=True`: planned once per connection. psycopg prepares only when the connection's
`prepare_threshold` is set, which settings do through `OPTIONS["prepare_threshold"]`
(`DB_PREPARED_STATEMENTS=0` turns it off behind a pooler without prepared statements; the
statements then run unprepared, with the same answers).
"""

from __future__ import annotations

import weakref

import psycopg
from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections

# One server-binding cursor per database connection (Django keeps one connection per thread).
_cursors: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _server_cursor(raw) -> psycopg.Cursor:
    cursor = _cursors.get(raw)
    if cursor is None or cursor.closed:
        cursor = _cursors[raw] = psycopg.Cursor(raw)
    return cursor


def prepared_cursor() -> psycopg.Cursor:
    """The server-binding cursor of this thread's database connection, for hot statements
    that are run with `execute(sql, params, prepare=True)`.

    It skips Django's cursor wrapper, so it does what that wrapper would do first: the
    once-per-request health check (a restarted database costs a reconnect, not a 500). Wrap
    the call in `connection.wrap_database_errors` so errors arrive as Django's exceptions.
    Read-only statements go through `prepared_read`, which saves that check's round trip.
    """
    db = connections[DEFAULT_DB_ALIAS]
    db.close_if_health_check_failed()
    db.ensure_connection()
    return _server_cursor(db.connection)


def prepared_read(sql: str, params) -> psycopg.Cursor:
    """Run a read-only hot query as a prepared statement; return the cursor to fetch from.

    The first query of a request on a reused connection is its own health check: where
    Django would send SELECT 1 first, this sends the query, and if the connection turns out
    to be dead (database restarted, idle connection dropped) it reconnects and runs the query
    again, which a read may do. So a restart still costs a reconnect, not a 500, and every
    request saves a round trip.
    """
    db = connections[DEFAULT_DB_ALIAS]
    # A read may always be redone on a fresh connection, except inside a transaction (which
    # the lost connection took with it) or behind a pool (which replaces connections itself).
    may_redo = not db.in_atomic_block and not getattr(db, "pool", None)
    check = db.connection is not None and db.health_check_enabled and not db.health_check_done and may_redo
    db.ensure_connection()
    try:
        with db.wrap_database_errors:
            cursor = _server_cursor(db.connection)
            cursor.execute(sql, params, prepare=True)
    except (OperationalError, InterfaceError):
        raw = db.connection
        if not may_redo or raw is None or not (raw.closed or raw.broken):
            raise
        db.close()
        db.ensure_connection()
        with db.wrap_database_errors:
            cursor = _server_cursor(db.connection)
            cursor.execute(sql, params, prepare=True)
    if check:
        db.health_check_done = True
    return cursor
