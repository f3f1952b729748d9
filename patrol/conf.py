"""Defaults of the patrol app; each may be overridden by a Django setting of the same name."""

from __future__ import annotations

from django.conf import settings

DEFAULTS = {
    "PATROL_DUPLICATE_RADIUS_M": 100.0,
    "PATROL_DUPLICATE_DAYS": 7,
    "PATROL_DESCRIPTION_MAX_CHARS": 4000,
    "PATROL_NOTE_MAX_CHARS": 2000,
    "PATROL_PHOTO_MAX_BYTES": 10 * 1024 * 1024,
    "PATROL_PHOTO_MAX_SIDE": 1600,
    "PATROL_PHOTO_MAX_PIXELS": 60_000_000,
    "PATROL_MAX_PHOTOS": 9,
    "PATROL_ESCALATION_STEP_DAYS": 2,
    "PATROL_DEADLINE_HOUR": 18,
    # Citizen reports from the public web form, per client address and hour.
    "PATROL_CITIZEN_REPORTS_PER_HOUR": 10,
    # Published cases drawn on the 曝光台 map at most (the list pages through all of them).
    "PATROL_PUBLIC_MAP_MAX": 5000,
}


def setting(name: str):
    return getattr(settings, name, DEFAULTS[name])
