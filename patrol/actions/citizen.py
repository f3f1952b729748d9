"""A citizen's report from the public web form (12369-style): a case with source 群众举报.

The citizen has no account: the case is reported by nobody, its photos are uploaded by
nobody, and what the citizen said about themselves (name, phone) is kept as contact data,
personal and never published. They follow the case with its Open311 token (the tracking code).
Reports are limited per client address (`PATROL_CITIZEN_REPORTS_PER_HOUR`), counted in the
shared cache so every worker sees the same count.
"""

from __future__ import annotations

import hashlib
import uuid

from django.core.cache import cache
from django.db import transaction
from django.utils.translation import gettext as _

from gridgov.errors import GridGovError

from ..conf import setting
from ..models import Issue, Source
from .photos import photo_store
from .reporting import issue_report

_QUOTA_PREFIX = "citizen_report_"
QUOTA_SECONDS = 3600


class TooManyReports(GridGovError):
    status = 429
    kind = "throttled"


def _quota_key(client: str) -> str:
    return _QUOTA_PREFIX + hashlib.sha256((client or "unknown").encode()).hexdigest()[:32]


def citizen_quota_take(*, client: str) -> None:
    """Count one report from this client address; refuse once the hour's quota is used."""
    limit = setting("PATROL_CITIZEN_REPORTS_PER_HOUR")
    key = _quota_key(client)
    cache.add(key, 0, QUOTA_SECONDS)
    try:
        used = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, QUOTA_SECONDS)
        used = 1
    if used > limit:
        raise TooManyReports(
            _("提交过于频繁：每个网络地址每小时最多举报 %(n)s 次，请稍后再试或拨打 12369。") % {"n": limit},
            code="too_many_reports",
        )


@transaction.atomic
def citizen_report(
    *,
    point,
    category: str,
    description: str,
    photos: list[bytes],
    contact: dict,
    address: str = "",
) -> Issue:
    """File the report with its photos (re-encoded, metadata stripped) in one transaction."""
    stored = [photo_store(data=data, uploaded_by=None, field="photos")[0] for data in photos]
    details = {k: v for k, v in contact.items() if v}
    if address:
        details["address"] = address
    issue, _created = issue_report(
        reporter=None,
        point=point,
        category=category,
        description=description,
        source=Source.CITIZEN,
        client_uuid=uuid.uuid4(),
        contact=details,
        crs_note="web",
    )
    if stored:
        issue.photos.add(*stored)
    return issue
