"""Settings of online monitoring with their defaults; each may be set in Django settings."""

from __future__ import annotations

from django.conf import settings

DEFAULTS = {
    # A logger silent for longer than this is offline (one 数采仪离线 case per outage).
    "MONITORING_OFFLINE_MINUTES": 60,
    # Months of data kept per period; older monthly partitions are dropped by the daily job.
    "MONITORING_RETENTION_MONTHS": {"R": 1, "M": 6, "H": 36, "D": 120},
    # Monthly partitions made ahead of time by the daily job.
    "MONITORING_PARTITIONS_AHEAD": 2,
    # Data more than this far in the future (a logger's clock) are refused.
    "MONITORING_FUTURE_MINUTES": 24 * 60,
    # An hour is judged once data for its last minute arrived, or this long after its end.
    "MONITORING_HOUR_GRACE_MINUTES": 10,
    # Receiver: a connection with nothing received for this long is closed.
    "MONITORING_IDLE_SECONDS": 600,
    # Receiver: a frame whose length field announces a longer data segment is refused at once
    # (HJ 212-2017 allows 1024 characters; real loggers send more, the 4-digit field up to 9999).
    "MONITORING_MAX_SEGMENT": 4096,
    # Receiver: a frame begun and not finished within this time is dropped (slow clients).
    "MONITORING_FRAME_SECONDS": 30,
    # Receiver: the parts of a split packet must all arrive within this time.
    "MONITORING_SPLIT_SECONDS": 600,
    # Receiver: packets per database transaction, and the longest wait to fill one.
    "MONITORING_BATCH_PACKETS": 2000,
    "MONITORING_BATCH_MS": 50,
    # Receiver: batches stored at the same time, each on its own database connection.
    "MONITORING_WRITERS": 2,
    # Receiver: packets waiting for the database before it stops reading from sockets.
    "MONITORING_BACKLOG_PACKETS": 50_000,
    # The packet ledger (exactly-once answers and counts) keeps this many hours.
    "MONITORING_LEDGER_HOURS": 72,
}


def setting(name: str):
    return getattr(settings, name, DEFAULTS[name])
