"""督办: escalation of overdue cases, run by the periodic job (patrol.tasks)."""

from __future__ import annotations

import datetime as dt
import logging

from django.db import connection, transaction
from django.utils import timezone

from ..calendar import add_working_days
from ..conf import setting
from ..models import CLOCK_STATUSES

log = logging.getLogger(__name__)

# Set-based on purpose: one statement escalates every overdue case, writes their audit rows and
# the notices to the supervisors one level up (district for level 1, city for level 2), so the
# job costs about as much as the bare UPDATE however many cases are late.
_ESCALATE_SQL = """
WITH esc AS (
    UPDATE patrol_issue i
       SET escalation_level = i.escalation_level + 1,
           escalated_at = %(now)s,
           next_escalation_at = CASE WHEN i.escalation_level + 1 < %(max_level)s THEN %(next_at)s END,
           updated_at = %(now)s
     WHERE i.status = ANY(%(statuses)s)
       AND i.escalation_level < %(max_level)s
       AND i.deadline < %(now)s
       AND (i.next_escalation_at IS NULL OR i.next_escalation_at < %(now)s)
    RETURNING i.id, i.status, i.escalation_level, i.district_id
), ev AS (
    INSERT INTO patrol_issueevent (issue_id, action, from_status, to_status, actor_id, at, note, photo_hashes, data)
    SELECT id, 'escalate', status, status, NULL, %(now)s,
           CASE escalation_level WHEN 1 THEN '逾期未整改，提请区县督办' ELSE '督办后仍逾期，提请市级督办' END,
           '{}', jsonb_build_object('level', escalation_level)
      FROM esc
    RETURNING 1
), notes AS (
    INSERT INTO patrol_notification (recipient_id, issue_id, kind, message, created_at)
    SELECT DISTINCT u.id, esc.id, 'escalation',
           '案件 #' || esc.id || ' 逾期，' || CASE esc.escalation_level WHEN 1 THEN '请区县督办' ELSE '请市级督办' END,
           %(now)s::timestamptz
      FROM esc
      JOIN gridgov_user u ON u.is_active AND (
             (esc.escalation_level = 1 AND u.role = 'district_supervisor' AND EXISTS (
                 SELECT 1 FROM gridgov_user_scope s WHERE s.user_id = u.id AND s.adminarea_id = esc.district_id))
          OR (esc.escalation_level >= 2 AND u.role = 'city_supervisor'))
    RETURNING 1
)
SELECT (SELECT count(*) FROM esc), (SELECT count(*) FROM ev), (SELECT count(*) FROM notes)
"""

MAX_ESCALATION_LEVEL = 2


@transaction.atomic
def issues_escalate_overdue(now: dt.datetime | None = None) -> int:
    """Escalate every case whose deadline (or previous escalation's deadline) has passed; return how many."""
    now = now or timezone.now()
    next_at = add_working_days(now, setting("PATROL_ESCALATION_STEP_DAYS"))
    with connection.cursor() as cursor:
        cursor.execute(
            _ESCALATE_SQL,
            {
                "now": now,
                "next_at": next_at,
                "statuses": [str(s) for s in CLOCK_STATUSES],
                "max_level": MAX_ESCALATION_LEVEL,
            },
        )
        escalated, _events, notices = cursor.fetchone()
    if escalated:
        log.info("escalated %s overdue cases, %s notices", escalated, notices)
    return escalated
