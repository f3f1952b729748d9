"""Running a detection job: claim it, detect (progress and cancel flag visible to other
connections while it runs), then store candidates and per-cell summaries in one transaction.
A failed, cancelled or bad-input run leaves no partial candidates behind."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from geodata.models import DetectionJob, JobStatus
from geodata.problems import problem_text, scene_problem
from geodata.raster import DetectionCancelled, RasterError, detect_changes
from geodata.raster.runner import ClusterError
from gridgov.errors import InvalidInput

from .candidates import job_store
from .scenes import pair_check
from .summaries import cell_summaries

log = logging.getLogger(__name__)

#: What a job runs with unless its params say otherwise (``jobs.clean_params`` starts from it).
DEFAULT_PARAMS = {"tile_size": 1024, "halo": 16, "min_area_m2": 500.0}
#: How often a running job writes its progress and reads its cancel flag.
PROGRESS_EVERY_S = 0.5


def job_output_dir(job: DetectionJob) -> Path:
    """Where a job's change raster lives; per database, as test databases reuse job ids."""
    db = str(settings.DATABASES["default"].get("NAME") or "default")
    if connection.settings_dict.get("NAME"):
        db = str(connection.settings_dict["NAME"])
    return Path(settings.VAR_DIR) / "imagery" / "jobs" / db / str(job.pk)


def dask_scheduler():
    """A dask.distributed address from settings, else the local threaded scheduler."""
    return getattr(settings, "DASK_SCHEDULER_ADDRESS", "") or "local"


def job_finish(job: DetectionJob, status: str, message: str) -> None:
    """End a job that stored nothing (failed or cancelled), with the message users read."""
    DetectionJob.objects.filter(pk=job.pk).update(status=status, message=message[:4000], finished_at=timezone.now())
    job.refresh_from_db()


class _Throttle:
    def __init__(self, every: float):
        self.every = every
        self.last = float("-inf")

    def due(self, force: bool = False) -> bool:
        now = time.monotonic()
        if force or now - self.last >= self.every:
            self.last = now
            return True
        return False


def job_run(
    job: DetectionJob, *, on_progress: Callable[[int, int], None] | None = None, raise_errors: bool = True
) -> DetectionJob:
    """Run a queued job to the end: detect, then write candidates and summaries in one
    transaction. Bad input marks the job failed and raises InvalidInput naming the file (unless
    `raise_errors` is False); a cancel marks it cancelled. Never call inside a transaction: the
    progress and the cancel flag must be visible to other connections while it runs."""
    claimed = DetectionJob.objects.filter(pk=job.pk, status=JobStatus.QUEUED, cancel_requested=False).update(
        status=JobStatus.RUNNING, started_at=timezone.now(), progress=0.0, message=_("检测中")
    )
    job.refresh_from_db()
    if not claimed:
        log.info("job %s is %s, not queued: nothing to run", job.pk, job.status)
        return job
    before, after = job.before, job.after
    params = {**DEFAULT_PARAMS, **job.params}
    out_dir = job_output_dir(job)
    out_dir.mkdir(parents=True, exist_ok=True)
    raster_path = out_dir / "change.tif"
    progress_throttle, cancel_throttle = _Throttle(PROGRESS_EVERY_S), _Throttle(PROGRESS_EVERY_S)
    cancelled = {"flag": False}

    def progress(done: int, total: int) -> None:
        if on_progress is not None:
            on_progress(done, total)
        if progress_throttle.due(force=done == total):
            frac = 0.05 + 0.85 * done / max(total, 1)
            DetectionJob.objects.filter(pk=job.pk).update(
                progress=min(frac, 0.9), message=_("检测中：%(done)s/%(total)s 块") % {"done": done, "total": total}
            )

    def should_cancel() -> bool:
        if cancelled["flag"]:
            return True
        if cancel_throttle.due():
            cancelled["flag"] = DetectionJob.objects.filter(pk=job.pk, cancel_requested=True).exists()
        return cancelled["flag"]

    try:
        pair_check(before, after)
        result = detect_changes(
            before.path,
            after.path,
            job.sensor,
            tile_size=params["tile_size"],
            halo=params["halo"],
            min_area_m2=params["min_area_m2"],
            thresholds=params.get("thresholds") or None,
            scheduler=dask_scheduler(),
            workers=params.get("workers"),
            gdal_cachemax_mb=128,
            change_raster_path=raster_path,
            progress=progress,
            should_cancel=should_cancel,
            before_acquired=before.acquired,
            after_acquired=after.acquired,
        )
        DetectionJob.objects.filter(pk=job.pk).update(progress=0.92, message=_("叠加网格与分区"))
        summaries = cell_summaries(job, str(raster_path))
        if should_cancel():
            raise DetectionCancelled(before.path, "cancelled")
        job_store(job, result.records, summaries, notes=result.notes, raster_path=raster_path)
    except DetectionCancelled:
        raster_path.unlink(missing_ok=True)
        job_finish(job, JobStatus.CANCELLED, _("已取消，未保存任何图斑"))
        return job
    except ClusterError as exc:
        raster_path.unlink(missing_ok=True)
        message = _("影像计算集群不可用：%(problem)s") % {"problem": problem_text(exc)}
        job_finish(job, JobStatus.FAILED, message)
        if raise_errors:
            raise InvalidInput(message, code="cluster_unavailable", field=None) from exc
        return job
    except (RasterError, InvalidInput) as exc:
        raster_path.unlink(missing_ok=True)
        message = str(exc.message) if isinstance(exc, InvalidInput) else scene_problem(exc)
        job_finish(job, JobStatus.FAILED, message)
        if raise_errors:
            code = getattr(exc, "code", None) or "bad_scene"
            raise InvalidInput(message, code=code, field=getattr(exc, "field", None) or "scene") from exc
        return job
    except BaseException:
        raster_path.unlink(missing_ok=True)
        log.exception("detection job %s failed", job.pk)
        job_finish(job, JobStatus.FAILED, _("内部错误，请联系管理员（任务 #%(id)s）。") % {"id": job.pk})
        raise
    job.refresh_from_db()
    return job
