"""Who may do what in the imagery app: review candidates, start and cancel detection jobs.

`reliability/access.py` states the same rules independently (its REVIEWER and job rows).
"""

from __future__ import annotations

from gridgov.jurisdiction import user_scope
from gridgov.models import Role

from .models import DetectionJob

#: Roles that may review candidates (within their scope) and that may start / cancel jobs.
REVIEW_ROLES = frozenset(
    {Role.IMAGERY_ANALYST, Role.CITY_SUPERVISOR, Role.DISTRICT_SUPERVISOR, Role.TOWNSHIP_SUPERVISOR}
)
JOB_ROLES = frozenset({Role.IMAGERY_ANALYST, Role.CITY_SUPERVISOR, Role.DISTRICT_SUPERVISOR})


def can_review(user) -> bool:
    return bool(user and user.is_authenticated and (user.is_superuser or user.role in REVIEW_ROLES))


def can_run_jobs(user) -> bool:
    return bool(user and (user.is_superuser or (user.is_authenticated and user.role in JOB_ROLES)))


def can_cancel_job(user, job: DetectionJob) -> bool:
    """A job-starting role whose scope holds the job's area (the whole city for a city-wide job)."""
    if not can_run_jobs(user):
        return False
    scope = user_scope(user)
    return scope.everything if job.area_id is None else scope.contains_area(job.area)
