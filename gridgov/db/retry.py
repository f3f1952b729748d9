"""Resending an idempotent write when the database connection died under it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.db import InterfaceError, OperationalError, connection

T = TypeVar("T")


def idempotent_write(write: Callable[[], T], *, attempts: int = 3) -> T:
    """Run `write`; if the connection was lost (a database restart), reconnect and run it again.

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
            if attempt == attempts or connection.in_atomic_block or connection.is_usable():
                raise
            connection.close()
    raise AssertionError("unreachable")
