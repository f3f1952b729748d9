"""Reads of the imagery app, with jurisdiction: candidates by district/township of their cell.

Candidates outside the user's scope answer exactly like missing ones (NotFound). Jobs and
scenes are not area-bound (a scene covers several districts); they are visible to anyone who
may review imagery.
"""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from gridgov.errors import Forbidden, InvalidInput, NotFound
from gridgov.jurisdiction import user_scope

from .models import CandidateReview, ChangeCandidate, DetectionJob, GridCellSummary, Scene
from .permissions import can_review

#: Orderings offered to reviewers (1,500 candidates need the worst first, not id order).
SORTS = {
    "violation": ("-violation", "-area_m2", "id"),
    "area": ("-area_m2", "id"),
    "confidence": ("-confidence", "-area_m2", "id"),
    "newest": ("-job_id", "-area_m2", "id"),
}


def _require_viewer(user) -> None:
    if not can_review(user):
        raise Forbidden(_("遥感图斑仅供遥感分析员和监管人员查看。"), code="forbidden_role")


def candidates(
    user,
    *,
    job: int | None = None,
    grid_cell: str | None = None,
    violation: bool | None = None,
    status: str | None = None,
    change_type: str | None = None,
    min_area: float | None = None,
    sort: str = "violation",
) -> QuerySet[ChangeCandidate]:
    """Candidates the user may see, filtered (values validated by api.CandidateFilter) and
    ordered by ``sort`` (SORTS)."""
    _require_viewer(user)
    qs = ChangeCandidate.objects.select_related("job", "grid_cell", "district", "township")
    qs = user_scope(user).filter(qs, district="district", township="township")
    if job is not None:
        qs = qs.filter(job_id=job)
    if grid_cell:
        qs = qs.filter(grid_cell__code=grid_cell)
    if violation is not None:
        qs = qs.filter(violation=violation)
    if status:
        qs = qs.filter(status=status)
    if change_type:
        qs = qs.filter(change_type=change_type)
    if min_area is not None:
        qs = qs.filter(area_m2__gte=min_area)
    return qs.order_by(*SORTS.get(sort, SORTS["violation"]))


def candidate_get(user, pk) -> ChangeCandidate:
    _require_viewer(user)
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound(_("图斑不存在。"), code="no_such_candidate") from None
    obj = candidates(user).filter(pk=pk).select_related("job__before", "job__after").first()
    if obj is None:
        raise NotFound(_("图斑不存在。"), code="no_such_candidate")
    return obj


def candidate_for_issue(issue) -> ChangeCandidate | None:
    """The candidate a case came from (for the case page), if any."""
    return ChangeCandidate.objects.filter(issue=issue).select_related("job").first()


def jobs(user) -> QuerySet[DetectionJob]:
    _require_viewer(user)
    return DetectionJob.objects.select_related("before", "after", "created_by")


def job_get(user, pk) -> DetectionJob:
    try:
        return jobs(user).get(pk=int(pk))
    except (TypeError, ValueError, DetectionJob.DoesNotExist):
        raise NotFound(_("任务不存在。"), code="no_such_job") from None


def scenes(user) -> QuerySet[Scene]:
    _require_viewer(user)
    return Scene.objects.all()


def scene_get(user, pk, *, field: str = "scene") -> Scene:
    try:
        return scenes(user).get(pk=int(pk))
    except (TypeError, ValueError, Scene.DoesNotExist):
        raise InvalidInput(_("所选影像不存在。"), code="no_such_scene", field=field) from None


def grid_summary(user, *, job) -> QuerySet[GridCellSummary]:
    """Per-cell figures of a job, for the cells in the user's scope."""
    j = job_get(user, job)
    qs = GridCellSummary.objects.filter(job=j).select_related("cell", "cell__township")
    return user_scope(user).filter(qs, district="cell__township__parent", township="cell__township")


def review_quality(*, job=None) -> list[dict]:
    """Precision of reviewed candidates (confirmed / (confirmed + dismissed)) per job and type."""
    qs = CandidateReview.objects.all()
    if job is not None:
        qs = qs.filter(job=job)
    rows = (
        qs.values("job_id", "change_type")
        .annotate(
            confirmed=Count("id", filter=Q(decision="confirmed")), dismissed=Count("id", filter=Q(decision="dismissed"))
        )
        .order_by("job_id", "change_type")
    )
    out = []
    for r in rows:
        n = r["confirmed"] + r["dismissed"]
        out.append({**r, "reviewed": n, "precision": (r["confirmed"] / n) if n else None})
    return out
