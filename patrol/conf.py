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
}


def setting(name: str):
    return getattr(settings, name, DEFAULTS[name])
