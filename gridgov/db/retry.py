"""Resending an idempotent write when the database connection died under it."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from django.db import InterfaceError, OperationalError, connection

T = TypeVar("T")


def idempotent_write(write: Callable[[], T], *, attempts: int = 5) -> T:
    """Run `write`; if the database failed it (a restart), reconnect and run it again.

    Only for writes that are idempotent by construction (a report keyed by its client_uuid, a
    photo keyed by its content hash): a transaction cut off by a lost connection either
    committed or did not, and running it again gives the same single row either way. The
    reconnect waits out the restart (see gridgov.db.backends.postgis). Not for use inside an
    outer transaction, which the lost connection has already ended.
    """
    for attempt in range(1, attempts + 1):
        try:
            return write()
        except (OperationalError, InterfaceError):
            # Operational: the connection went away (or a deadlock, or a serialization
            # failure); redoing an idempotent write is safe in every such case. Django may
            # already have replaced the connection when the transaction's rollback failed.
            if attempt == attempts or connection.in_atomic_block:
                raise
            connection.close_if_unusable_or_obsolete()
            # A server on its way down may still accept a connection and then drop it: give
            # the restart a moment before the next try.
            time.sleep(0.25 * attempt)
    raise AssertionError("unreachable")
