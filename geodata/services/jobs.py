"""Detection jobs: create one on a pair (checked, its parameters validated, tied to the area
it covers), and cancel it. Running a job is ``running``."""

from __future__ import annotations

import os

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from procrastinate.contrib.django import app

from geodata.models import ChangeType, DetectionJob, JobStatus, Scene
from geodata.permissions import can_cancel_job, can_run_jobs
from gridgov.errors import Conflict, Forbidden, InvalidInput
from gridgov.jurisdiction import user_scope
from gridgov.models import AdminArea, AreaLevel

from .running import DEFAULT_PARAMS
from .scenes import pair_check

#: The procrastinate task that runs a job (``geodata.tasks``), deferred by name: the task
#: module imports ``running``, so importing it here would make a cycle.
RUN_TASK = "geodata.run_detection_job"
PARAM_LABELS = {
    "tile_size": gettext_lazy("分块大小"),
    "halo": gettext_lazy("分块重叠像元"),
    "workers": gettext_lazy("并行数"),
    "min_area_m2": gettext_lazy("最小图斑面积"),
    "thresholds": gettext_lazy("阈值"),
}


def max_workers() -> int:
    """Tile workers a job may ask for: this machine's cores (settings.IMAGERY_MAX_WORKERS)."""
    return int(getattr(settings, "IMAGERY_MAX_WORKERS", 0) or os.cpu_count() or 1)


def _int_param(key: str, value, lo: int, hi: int) -> int:
    try:
        value = int(value)
    except (TypeError, ValueError):
        value = None
    if value is None or not lo <= value <= hi:
        raise InvalidInput(
            _("%(label)s应为 %(lo)s–%(hi)s 之间的整数。") % {"label": PARAM_LABELS[key], "lo": lo, "hi": hi},
            code="out_of_range",
            field=key,
        )
    return value


def _area_param(key: str, value) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        value = float("nan")
    if not 0 < value <= 1e7:
        raise InvalidInput(
            _("%(label)s应在 0–10,000,000 平方米之间。") % {"label": PARAM_LABELS[key]}, code="out_of_range", field=key
        )
    return value


def _thresholds_param(key: str, value) -> dict[str, float]:
    try:
        if not isinstance(value, dict) or set(value) - set(ChangeType.values):
            raise ValueError
        return {k: float(v) for k, v in value.items() if v is not None}
    except (TypeError, ValueError):
        raise InvalidInput(
            _("%(label)s应为 {%(keys)s: 数值}。") % {"label": PARAM_LABELS[key], "keys": ", ".join(ChangeType.values)},
            code="invalid",
            field=key,
        ) from None


def clean_params(params: dict | None) -> dict:
    """A job's parameters: the defaults, overridden by the given ones (each checked)."""
    out = dict(DEFAULT_PARAMS)
    for key, value in (params or {}).items():
        if key == "tile_size":
            out[key] = _int_param(key, value, 64, 8192)
        elif key == "halo":
            out[key] = _int_param(key, value, 0, 256)
        elif key == "workers":
            out[key] = _int_param(key, value, 1, max_workers())
        elif key == "min_area_m2":
            out[key] = _area_param(key, value)
        elif key == "thresholds":
            out[key] = _thresholds_param(key, value)
        else:
            raise InvalidInput(_("未知参数 %(key)s。") % {"key": key}, code="unknown_param", field=key)
    return out


def job_area(before: Scene, after: Scene) -> AdminArea:
    """The one district the pair's overlap touches, else the city."""
    overlap = before.footprint.intersection(after.footprint)
    districts = list(AdminArea.objects.filter(level=AreaLevel.DISTRICT, geom__intersects=overlap)[:2])
    if len(districts) == 1:
        return districts[0]
    return AdminArea.objects.get(level=AreaLevel.CITY)


def job_create(
    *, before: Scene, after: Scene, user=None, params: dict | None = None, defer: bool = True
) -> DetectionJob:
    """Queue a detection on a pair; the procrastinate task starts after the commit. The job
    belongs to the one district the pair covers, else to the whole city; only a user whose
    scope contains that area may start (or cancel) it."""
    if user is not None and not can_run_jobs(user):
        raise Forbidden(_("您无权发起变化检测。"), code="forbidden_role")
    pair_check(before, after)
    area = job_area(before, after)
    if user is not None and not user_scope(user).contains_area(area):
        raise Forbidden(
            _("影像对覆盖 %(area)s，超出您的管辖范围。") % {"area": area.name}, code="out_of_scope", field="after"
        )
    job = DetectionJob(
        area=None if area.level == AreaLevel.CITY else area,
        before=before,
        after=after,
        sensor=before.sensor,
        params=clean_params(params),
        created_by=user if getattr(user, "is_authenticated", False) else None,
        synthetic=before.synthetic or after.synthetic,
    )
    with transaction.atomic():
        job.full_clean()
        job.save()
        if defer:
            transaction.on_commit(lambda: app.configure_task(RUN_TASK, allow_unknown=False).defer(job_id=job.pk))
    return job


@transaction.atomic
def job_cancel(*, job: DetectionJob, user=None) -> DetectionJob:
    """Cancel a queued job at once; ask a running one to stop at its next tile. A city-wide
    job (no area) can be cancelled only by someone with city scope."""
    if user is not None and not can_run_jobs(user):
        raise Forbidden(_("您无权取消变化检测任务。"), code="forbidden_role")
    job = DetectionJob.objects.select_for_update(of=("self",)).select_related("area").get(pk=job.pk)
    if user is not None and not can_cancel_job(user, job):
        raise Forbidden(_("该任务超出您的管辖范围，不能取消。"), code="out_of_scope")
    if job.finished:
        raise Conflict(
            _("任务 #%(id)s 已%(status)s，不能取消。") % {"id": job.pk, "status": job.get_status_display()},
            code="job_finished",
            field="status",
        )
    job.cancel_requested = True
    fields = ["cancel_requested"]
    if job.status == JobStatus.QUEUED:
        job.status = JobStatus.CANCELLED
        job.message = _("已在开始前取消")
        job.finished_at = timezone.now()
        fields += ["status", "message", "finished_at"]
    job.save(update_fields=fields)
    return job
