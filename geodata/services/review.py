"""Review of candidates: confirm one into a patrol case (source imagery), or dismiss it with
a reason. Every decision writes an immutable CandidateReview row."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from geodata.models import CandidateReview, CandidateStatus, ChangeCandidate, ChangeType
from geodata.permissions import can_review
from gridgov.errors import Conflict, Forbidden, InvalidInput
from patrol.actions.reporting import issue_report
from zoning import rules
from zoning.selectors import ZoneHit

SRID = settings.GRIDGOV_SRID
NAMESPACE = uuid.UUID("5b0f8e0e-6d2c-4f57-9a55-6a1f3b3f4d11")
CATEGORY_BY_TYPE = {
    ChangeType.VEGETATION_LOSS: "ecology.illegal_logging",  # 毁林
    ChangeType.CONSTRUCTION: "ecology",  # 生态: no "illegal construction" code in the taxonomy
    ChangeType.WATER_CHANGE: "ecology",
}


def issue_category_for(candidate: ChangeCandidate) -> str:
    if any(rules.is_red_line(ZoneHit(**z)) for z in candidate.zones):
        return "ecology.red_line_encroachment"
    return CATEGORY_BY_TYPE.get(candidate.change_type, "ecology")


def _lock_new(candidate: ChangeCandidate, user) -> ChangeCandidate:
    if not can_review(user):
        raise Forbidden(_("您无权审核遥感图斑。"), code="forbidden_role")
    locked = ChangeCandidate.objects.select_for_update().select_related("job").get(pk=candidate.pk)
    if locked.status != CandidateStatus.NEW:
        raise Conflict(
            _("图斑 #%(id)s 已%(status)s。") % {"id": locked.pk, "status": locked.get_status_display()},
            code="already_reviewed",
            field="status",
        )
    return locked


def _case_description(c: ChangeCandidate, note: str) -> str:
    facts = {
        "label": ChangeType(c.change_type).label,
        "area": f"{c.area_m2:,.0f}",
        "confidence": f"{c.confidence:.2f}",
        "before": f"{c.job.before.acquired:%Y-%m-%d}",
        "after": f"{c.job.after.acquired:%Y-%m-%d}",
        "job": c.job_id,
        "id": c.pk,
    }
    text = (
        _("遥感监测发现%(label)s约 %(area)s 平方米")
        + _("（置信度 %(confidence)s，%(before)s→%(after)s，任务 #%(job)s，图斑 #%(id)s）")
    ) % facts
    if c.job.synthetic:
        text += _("（合成影像演示）")
    text += "。"
    if c.violation_reason:
        text += _("疑似违规：%(reason)s。") % {"reason": c.violation_reason}
    if note.strip():
        text += _("审核意见：%(note)s") % {"note": note.strip()}
    return text


@transaction.atomic
def candidate_confirm(*, candidate: ChangeCandidate, user, note: str = ""):
    """Confirm a candidate: open a patrol case (source imagery) and link both ways."""
    c = _lock_new(candidate, user)
    point = c.geom.point_on_surface
    point.srid = SRID
    issue, _created = issue_report(
        reporter=user,
        point=point,
        category=issue_category_for(c),
        description=_case_description(c, note)[:4000],
        source="imagery",
        client_uuid=uuid.uuid5(NAMESPACE, f"candidate-{c.pk}"),
        crs_note=_("WGS84（遥感图斑内点）"),
    )
    c.status = CandidateStatus.CONFIRMED
    c.issue = issue
    c.reviewed_by = user
    c.reviewed_at = timezone.now()
    c.review_reason = note.strip()[:4000]
    c.save(update_fields=["status", "issue", "reviewed_by", "reviewed_at", "review_reason"])
    _review_row(c, CandidateReview.Decision.CONFIRMED, user)
    return issue


@transaction.atomic
def candidate_dismiss(*, candidate: ChangeCandidate, user, reason: str) -> ChangeCandidate:
    """Dismiss a candidate (false alarm, legal change, …); a reason is required."""
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if not reason:
        raise InvalidInput(_("请填写排除理由。"), code="reason_required", field="reason")
    if len(reason) > 4000:
        raise InvalidInput(_("排除理由过长（最多 4000 字）。"), code="too_long", field="reason")
    c = _lock_new(candidate, user)
    c.status = CandidateStatus.DISMISSED
    c.review_reason = reason
    c.reviewed_by = user
    c.reviewed_at = timezone.now()
    c.full_clean(exclude=["job", "grid_cell", "township", "district", "issue", "reviewed_by"])
    c.save(update_fields=["status", "review_reason", "reviewed_by", "reviewed_at"])
    _review_row(c, CandidateReview.Decision.DISMISSED, user)
    return c


def _review_row(c: ChangeCandidate, decision: str, user) -> None:
    CandidateReview.objects.create(
        candidate=c,
        job_id=c.job_id,
        decision=decision,
        reason=c.review_reason,
        change_type=c.change_type,
        area_m2=c.area_m2,
        confidence=c.confidence,
        violation=c.violation,
        reviewer=user,
        issue=c.issue,
    )
