"""Reads of the imagery app, with jurisdiction: candidates by district/township of their cell.

Candidates outside the user's scope answer exactly like missing ones (NotFound). Jobs and
scenes are not area-bound (a scene covers several districts); they are visible to anyone who
may review imagery.
"""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from gridgov.errors import Forbidden, InvalidInput, NotFound
from gridgov.jurisdiction import user_scope

from .models import CandidateReview, CandidateStatus, ChangeCandidate, DetectionJob, GridCellSummary, Scene
from .services import can_review

TRUE = {"1", "true", "yes", "on", "True"}
FALSE = {"0", "false", "no", "off", "False"}


def _require_viewer(user) -> None:
    if not can_review(user):
        raise Forbidden("无权查看遥感图斑 / imagery review is for analysts and supervisors")


def _int(value, field: str) -> int:
    try:
        n = int(str(value))
    except (TypeError, ValueError):
        raise InvalidInput(f"'{field}' 应为整数编号 / must be an integer id", field=field) from None
    if n <= 0:
        raise InvalidInput(f"'{field}' 应为正整数 / must be a positive id", field=field)
    return n


def candidates(
    user, *, job=None, grid_cell: str | None = None, violation=None, status: str | None = None
) -> QuerySet[ChangeCandidate]:
    """Candidates the user may see, filtered; filter values are validated (400 naming the field)."""
    _require_viewer(user)
    qs = ChangeCandidate.objects.select_related("job", "grid_cell", "district", "township")
    qs = user_scope(user).filter(qs, district="district", township="township")
    if job not in (None, ""):
        qs = qs.filter(job_id=_int(job, "job"))
    if grid_cell not in (None, ""):
        code = str(grid_cell)
        if not (code.isdigit() and len(code) == 14):
            raise InvalidInput("'grid_cell' 应为 14 位网格编码 / must be a 14-digit grid cell code", field="grid_cell")
        qs = qs.filter(grid_cell__code=code)
    if violation not in (None, ""):
        if str(violation) in TRUE:
            qs = qs.filter(violation=True)
        elif str(violation) in FALSE:
            qs = qs.filter(violation=False)
        else:
            raise InvalidInput("'violation' 应为 true 或 false", field="violation")
    if status not in (None, ""):
        if status not in CandidateStatus.values:
            raise InvalidInput(f"'status' 应为 {', '.join(CandidateStatus.values)}", field="status")
        qs = qs.filter(status=status)
    return qs


def candidate_get(user, pk) -> ChangeCandidate:
    _require_viewer(user)
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound("图斑不存在 / no such candidate") from None
    obj = candidates(user).filter(pk=pk).select_related("job__before", "job__after").first()
    if obj is None:
        raise NotFound("图斑不存在 / no such candidate")
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
        raise NotFound("任务不存在 / no such job") from None


def scenes(user) -> QuerySet[Scene]:
    _require_viewer(user)
    return Scene.objects.all()


def scene_get(user, pk, *, field: str = "scene") -> Scene:
    try:
        return scenes(user).get(pk=int(pk))
    except (TypeError, ValueError, Scene.DoesNotExist):
        raise InvalidInput(f"'{field}' 影像不存在 / no such scene", field=field) from None


def grid_summary(user, *, job) -> QuerySet[GridCellSummary]:
    """Per-cell figures of a job, for the cells in the user's scope."""
    if job in (None, ""):
        raise InvalidInput("缺少 'job' 参数 / 'job' is required", field="job")
    j = job_get(user, _int(job, "job"))
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
