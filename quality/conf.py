"""Settings of environmental quality with their defaults; each may be set in Django settings."""

from __future__ import annotations

from django.conf import settings

DEFAULTS = {
    # A water factor's daily mean needs this many valid values (HJ 915-2017 measures every
    # 4 hours: six a day; four is two thirds of them).
    "QUALITY_WATER_MIN_VALUES": 4,
    # The daily job judges this many past days again (late data change a day's class).
    "QUALITY_REJUDGE_DAYS": 2,
}


def setting(name: str):
    return getattr(settings, name, DEFAULTS[name])
