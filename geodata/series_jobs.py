"""Time-series detection jobs: three or more registered scenes, oldest first.

The job is stored as the pair (first date, last date), so its candidates land in the same
review queue as any pair's; what only a series has (each candidate's ``first_seen``) comes
back from ``series_run`` for the GeoJSON of ``manage.py detect_changes --series``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence

import shapely
from django.utils import timezone
from django.utils.translation import gettext as _

from geodata.models import ChangeCandidate, DetectionJob, JobStatus, Scene
from geodata.problems import scene_problem
from geodata.raster.errors import RasterError
from geodata.raster.series import detect_series
from geodata.services.candidates import job_store
from geodata.services.jobs import job_create
from geodata.services.running import DEFAULT_PARAMS, dask_scheduler, job_finish, job_output_dir
from geodata.services.summaries import cell_summaries
from gridgov.errors import InvalidInput

log = logging.getLogger(__name__)


def series_check_order(scenes: Sequence[Scene]) -> None:
    """Three or more scenes, strictly oldest first; else InvalidInput naming the file."""
    if len(scenes) < 3:
        raise InvalidInput(_("时间序列至少需要三个日期的影像。"), code="series_too_short", field="series")
    for prev, cur in zip(scenes, scenes[1:], strict=False):
        if cur.acquired <= prev.acquired:
            raise InvalidInput(
                _("%(path)s：日期 %(date)s 不晚于前一景的 %(prev)s，请按从早到晚的顺序给出时间序列。")
                % {"path": cur.name, "date": cur.acquired, "prev": prev.acquired},
                code="series_order",
                field="series",
            )


def series_run(*, scenes: Sequence[Scene], params: dict | None = None) -> tuple[DetectionJob, dict[int, dt.date]]:
    """Detect what persisted over ``scenes`` and store it as the job (first, last): returns
    the job and the ``first_seen`` date of each of its candidates (by candidate id)."""
    series_check_order(scenes)
    params = dict(params or {})
    job = job_create(before=scenes[0], after=scenes[-1], params=params, defer=False)
    running = dict(status=JobStatus.RUNNING, started_at=timezone.now(), message=_("检测中"))
    DetectionJob.objects.filter(pk=job.pk).update(**running)
    raster_path = job_output_dir(job) / "change.tif"
    raster_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        result = detect_series(
            [s.path for s in scenes],
            job.sensor,
            dates=[s.acquired for s in scenes],
            min_area_m2=params.get("min_area_m2", DEFAULT_PARAMS["min_area_m2"]),
            change_raster_path=raster_path,
            tile_size=params.get("tile_size", DEFAULT_PARAMS["tile_size"]),
            scheduler=dask_scheduler(),
            workers=params.get("workers"),
        )
        summaries = cell_summaries(job, str(raster_path))
        job_store(job, result.records, summaries, notes=result.notes, raster_path=raster_path)
    except RasterError as exc:
        raster_path.unlink(missing_ok=True)
        message = scene_problem(exc)
        job_finish(job, JobStatus.FAILED, message)
        raise InvalidInput(message, code="series_failed", field="series") from exc
    except BaseException:
        raster_path.unlink(missing_ok=True)
        log.exception("series job %s failed", job.pk)
        job_finish(job, JobStatus.FAILED, _("内部错误，请联系管理员（任务 #%(id)s）。") % {"id": job.pk})
        raise
    job.refresh_from_db()
    return job, _first_seen(job, result.records)


def _first_seen(job: DetectionJob, records: list) -> dict[int, dt.date]:
    """Each stored candidate's first_seen: that of the record it overlaps most."""
    out = {}
    geoms = [r.geometry for r in records]
    for c in ChangeCandidate.objects.filter(job=job):
        g = shapely.from_wkb(bytes(c.geom.wkb))
        best = max(range(len(geoms)), key=lambda i: g.intersection(geoms[i]).area, default=None)
        if best is not None and records[best].first_seen is not None:
            out[c.pk] = records[best].first_seen
    return out
