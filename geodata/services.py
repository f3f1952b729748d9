"""Writes of the imagery app: register scenes, create/run/cancel detection jobs, review candidates.

The raster work is done by `geodata.raster` (pure, no Django); this module opens files by
path, stores what it learns, and keeps the database consistent: a job's candidates and per-cell
summaries are written in one transaction after detection succeeded, so a failed, cancelled or
bad-input run leaves no partial candidates behind.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon, Polygon
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from pyproj import Transformer

from geodata.raster import DetectionCancelled, RasterError, detect_changes, summarize_by_zones
from geodata.raster.constants import SENSORS
from geodata.raster.errors import SensorMismatchError
from geodata.raster.products import UnsafePathError, looks_like_stac, open_product, product_kind, validate_source
from geodata.raster.runner import ClusterError
from gridgov.errors import Conflict, Forbidden, InvalidInput
from gridgov.jurisdiction import user_scope
from gridgov.models import AdminArea, AreaLevel, GridCell, Role

from .models import (
    CandidateReview,
    CandidateStatus,
    ChangeCandidate,
    ChangeType,
    DetectionJob,
    GridCellSummary,
    JobStatus,
    Scene,
)

log = logging.getLogger(__name__)
SRID = settings.GRIDGOV_SRID

#: Roles that may review candidates (within their scope) and that may start / cancel jobs.
REVIEW_ROLES = frozenset(
    {Role.IMAGERY_ANALYST, Role.CITY_SUPERVISOR, Role.DISTRICT_SUPERVISOR, Role.TOWNSHIP_SUPERVISOR}
)
JOB_ROLES = frozenset({Role.IMAGERY_ANALYST, Role.CITY_SUPERVISOR, Role.DISTRICT_SUPERVISOR})

TIFF_SUFFIXES = (".tif", ".tiff")
DEFAULT_PARAMS = {"tile_size": 1024, "halo": 16, "min_area_m2": 500.0}
#: How often a running job writes its progress and reads its cancel flag.
PROGRESS_EVERY_S = 0.5
#: Red-line zones are a violation whatever the change; control-unit access-list items in the
#: spatial-layout dimension that say 禁止 … 建设/新建/开发/工业/项目 forbid construction.
FORBID_WORDS = ("禁止", "不得", "严禁")
BUILD_WORDS = ("建设", "新建", "扩建", "开发", "工业", "项目", "开山", "采矿")
NAMESPACE = uuid.UUID("5b0f8e0e-6d2c-4f57-9a55-6a1f3b3f4d11")


def can_review(user) -> bool:
    return bool(user and user.is_authenticated and (user.is_superuser or user.role in REVIEW_ROLES))


def can_run_jobs(user) -> bool:
    return bool(user and (user.is_superuser or (user.is_authenticated and user.role in JOB_ROLES)))


# ----------------------------------------------------------------------------- scenes
def scene_problem(exc: RasterError) -> str:
    """A raster error as users read it: the product's name (never the server path) and the
    problem, in a translated sentence."""
    return _("影像 %(name)s 无法使用：%(problem)s") % {"name": Path(exc.path).name, "problem": exc.problem}


def _crs_label(crs) -> str:
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg else crs.to_string()[:64]


def _footprint(bounds, crs) -> Polygon:
    """The scene's bounding box in the storage SRID, edges densified before reprojection."""
    box = shapely.box(*bounds)
    box = shapely.segmentize(box, max(box.length / 4 / 16, 1e-9))
    tr = Transformer.from_crs(crs, f"EPSG:{SRID}", always_xy=True)
    ll = shapely.transform(box, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
    return GEOSGeometry(memoryview(ll.wkb), srid=SRID)


def scene_register(
    *,
    path: str | Path,
    sensor: str | None = None,
    acquired: dt.date | None = None,
    user=None,
    synthetic: bool | None = None,
) -> Scene:
    """Validate a product (stacked GeoTIFF, .SAFE folder or zip, STAC item, Landsat C2 folder)
    and register (or refresh) it; errors name the product and the problem."""
    if sensor and sensor not in SENSORS:
        raise InvalidInput(
            _("未知传感器 %(sensor)s，应为 %(known)s 之一。") % {"sensor": sensor, "known": "、".join(SENSORS)},
            code="unknown_sensor",
            field="sensor",
        )
    try:
        source = open_product(path, sensor=sensor, acquired=acquired)
        grid = validate_source(source)
    except UnsafePathError as exc:
        raise InvalidInput(scene_problem(exc), code="unsafe_path", field="path") from exc
    except SensorMismatchError as exc:
        if not sensor and "sensor not given" in exc.problem:
            raise InvalidInput(
                _("影像 %(name)s 未注明传感器，请指定传感器（%(known)s）。")
                % {"name": Path(exc.path).name, "known": "、".join(SENSORS)},
                code="sensor_required",
                field="sensor",
            ) from exc
        raise InvalidInput(scene_problem(exc), code="sensor_mismatch", field="sensor") from exc
    except RasterError as exc:
        raise InvalidInput(scene_problem(exc), code="bad_scene", field="path") from exc
    p = Path(source.path)
    if source.acquired is None:
        raise InvalidInput(
            _("无法确定影像 %(name)s 的成像日期（元数据、标签和文件名中都没有），请指定成像日期。") % {"name": p.name},
            code="acquired_unknown",
            field="acquired",
        )
    try:
        foot = _footprint(grid.bounds, grid.crs)
    except Exception as exc:  # noqa: BLE001 - pyproj refuses a CRS it cannot transform
        raise InvalidInput(
            _("影像 %(name)s 的覆盖范围无法转换为 WGS84。") % {"name": p.name}, code="bad_crs", field="path"
        ) from exc
    defaults = dict(
        name=p.name if p.parent.name in ("", ".") else f"{p.parent.name}/{p.name}",
        kind=source.kind,
        sensor=source.sensor,
        acquired=source.acquired,
        crs=_crs_label(grid.crs),
        footprint=foot,
        nodata=next(iter(source.bands.values())).nodata,
        band_count=len(source.roles) + (1 if source.mask else 0),
        width=grid.width,
        height=grid.height,
        pixel_size=grid.pixel_size,
        sun_zenith=source.sun_zenith,
        sun_azimuth=source.sun_azimuth,
        synthetic=source.synthetic if synthetic is None else synthetic,
    )
    spath = str(p)
    with transaction.atomic():
        scene = Scene.objects.select_for_update().filter(path=spath).first() or Scene(path=spath, registered_by=user)
        for k, v in defaults.items():
            setattr(scene, k, v)
        scene.full_clean()
        scene.save()
    return scene


def scan_folder(folder: str | Path) -> list[Path]:
    """The products under ``folder``: .SAFE folders and zips, Landsat C2 folders and STAC items
    (their band files are not scenes of their own), else stacked GeoTIFFs."""
    d = Path(folder).expanduser()
    if not d.is_dir():
        raise InvalidInput(_("%(folder)s 不是文件夹。") % {"folder": d.name}, code="not_a_folder", field="folder")
    found: list[Path] = []

    def walk(dirpath: Path) -> None:
        entries = sorted(dirpath.iterdir())
        items = [e for e in entries if looks_like_stac(e)]
        for e in entries:
            if e.is_dir():
                kind = product_kind(e) if (e.suffix.upper() == ".SAFE" or any(e.glob("*_MTL.txt"))) else None
                if kind:
                    found.append(e)
                else:
                    walk(e)
            elif e in items or e.suffix.lower() == ".zip":
                found.append(e)
            elif e.suffix.lower() in TIFF_SUFFIXES and not items and not e.name.startswith("change_"):
                found.append(e)  # change rasters written by our own jobs are outputs, not scenes

    walk(d)
    return found


@transaction.atomic
def scenes_register_folder(*, folder: str | Path, sensor: str | None = None, user=None) -> list[Scene]:
    """Register every GeoTIFF under `folder`; one bad file fails the lot, naming the file."""
    files = scan_folder(folder)
    if not files:
        raise InvalidInput(
            _("文件夹 %(folder)s 中没有影像产品（GeoTIFF、SAFE、STAC 或 Landsat）。") % {"folder": Path(folder).name},
            code="no_scenes",
            field="folder",
        )
    return [scene_register(path=f, sensor=sensor, user=user) for f in files]


def scene_pairs(scenes: Iterable[Scene], *, min_overlap: float = 0.05) -> list[tuple[Scene, Scene]]:
    """Pair each scene with the next later scene of the same sensor whose footprint overlaps
    (by at least `min_overlap` of the smaller one); a chain A→B→C gives (A,B), (B,C)."""
    ordered = sorted(scenes, key=lambda s: (s.acquired, s.path))
    pairs = []
    for i, a in enumerate(ordered):
        for b in ordered[i + 1 :]:
            if b.acquired <= a.acquired or b.sensor != a.sensor:
                continue
            if not a.footprint.intersects(b.footprint):
                continue
            inter = a.footprint.intersection(b.footprint).area
            if inter >= min_overlap * min(a.footprint.area, b.footprint.area):
                pairs.append((a, b))
                break
    return pairs


# ----------------------------------------------------------------------------- jobs
def _check_pair(before: Scene, after: Scene) -> None:
    names = {"before": before.name, "after": after.name}
    if before.pk == after.pk:
        raise InvalidInput(_("前后时相是同一景影像（%(after)s）。") % names, code="same_scene", field="after")
    if before.sensor != after.sensor:
        raise InvalidInput(
            _("后时相 %(after)s 的传感器与前时相 %(before)s 不一致。") % names, code="sensor_mismatch", field="after"
        )
    if not before.footprint.intersects(after.footprint) or before.footprint.intersection(after.footprint).area <= 0:
        raise InvalidInput(_("后时相 %(after)s 与前时相 %(before)s 不重叠。") % names, code="no_overlap", field="after")
    if after.acquired < before.acquired:
        raise InvalidInput(
            _("后时相 %(after)s 的成像日期早于前时相 %(before)s。") % names, code="dates_reversed", field="after"
        )


def max_workers() -> int:
    """Tile workers a job may ask for: this machine's cores (settings.IMAGERY_MAX_WORKERS)."""
    return int(getattr(settings, "IMAGERY_MAX_WORKERS", 0) or os.cpu_count() or 1)


PARAM_LABELS = {
    "tile_size": _lazy("分块大小"),
    "halo": _lazy("分块重叠像元"),
    "workers": _lazy("并行数"),
    "min_area_m2": _lazy("最小图斑面积"),
    "thresholds": _lazy("阈值"),
}


def _clean_params(params: dict | None) -> dict:
    out = dict(DEFAULT_PARAMS)
    for key, value in (params or {}).items():
        if key not in PARAM_LABELS:
            raise InvalidInput(_("未知参数 %(key)s。") % {"key": key}, code="unknown_param", field=key)
        label = PARAM_LABELS[key]
        if key in ("tile_size", "halo", "workers"):
            lo, hi = {"tile_size": (64, 8192), "halo": (0, 256), "workers": (1, max_workers())}[key]
            try:
                value = int(value)
            except (TypeError, ValueError):
                value = None
            if value is None or not lo <= value <= hi:
                raise InvalidInput(
                    _("%(label)s应为 %(lo)s–%(hi)s 之间的整数。") % {"label": label, "lo": lo, "hi": hi},
                    code="out_of_range",
                    field=key,
                )
        elif key == "min_area_m2":
            try:
                value = float(value)
            except (TypeError, ValueError):
                value = float("nan")
            if not 0 < value <= 1e7:
                raise InvalidInput(
                    _("%(label)s应在 0–10,000,000 平方米之间。") % {"label": label}, code="out_of_range", field=key
                )
        else:
            try:
                if not isinstance(value, dict) or set(value) - set(ChangeType.values):
                    raise ValueError
                value = {k: float(v) for k, v in value.items() if v is not None}
            except (TypeError, ValueError):
                raise InvalidInput(
                    _("%(label)s应为 {%(keys)s: 数值}。") % {"label": label, "keys": ", ".join(ChangeType.values)},
                    code="invalid",
                    field=key,
                ) from None
        out[key] = value
    return out


def job_create(
    *, before: Scene, after: Scene, user=None, params: dict | None = None, defer: bool = True
) -> DetectionJob:
    """Queue a detection on a pair; the procrastinate task starts after the commit. The job
    belongs to the one district the pair covers, else to the whole city; only a user whose
    scope contains that area may start (or cancel) it."""
    if user is not None and not can_run_jobs(user):
        raise Forbidden(_("您无权发起变化检测。"), code="forbidden_role")
    _check_pair(before, after)
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
        params=_clean_params(params),
        created_by=user if getattr(user, "is_authenticated", False) else None,
        synthetic=before.synthetic or after.synthetic,
    )
    with transaction.atomic():
        job.full_clean()
        job.save()
        if defer:
            from . import tasks

            transaction.on_commit(lambda: tasks.run_detection_job.defer(job_id=job.pk))
    return job


def can_cancel_job(user, job: DetectionJob) -> bool:
    """A job-starting role whose scope holds the job's area (the whole city for a city-wide job)."""
    if not can_run_jobs(user):
        return False
    scope = user_scope(user)
    return scope.everything if job.area_id is None else scope.contains_area(job.area)


def job_area(before: Scene, after: Scene) -> AdminArea:
    """The one district the pair's overlap touches, else the city."""
    overlap = before.footprint.intersection(after.footprint)
    districts = list(AdminArea.objects.filter(level=AreaLevel.DISTRICT, geom__intersects=overlap)[:2])
    if len(districts) == 1:
        return districts[0]
    return AdminArea.objects.get(level=AreaLevel.CITY)


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


def job_output_dir(job: DetectionJob) -> Path:
    """Where a job's change raster lives; per database, as test databases reuse job ids."""
    db = str(settings.DATABASES["default"].get("NAME") or "default")
    if connection.settings_dict.get("NAME"):
        db = str(connection.settings_dict["NAME"])
    return Path(settings.VAR_DIR) / "imagery" / "jobs" / db / str(job.pk)


def dask_scheduler():
    """A dask.distributed address from settings, else the local threaded scheduler."""
    return getattr(settings, "DASK_SCHEDULER_ADDRESS", "") or "local"


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
    params = dict(job.params)
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
        _check_pair(before, after)
        result = detect_changes(
            before.path,
            after.path,
            job.sensor,
            tile_size=params.get("tile_size", DEFAULT_PARAMS["tile_size"]),
            halo=params.get("halo", DEFAULT_PARAMS["halo"]),
            min_area_m2=params.get("min_area_m2", DEFAULT_PARAMS["min_area_m2"]),
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
        summaries = _cell_summaries(job, str(raster_path))
        if should_cancel():
            raise DetectionCancelled(before.path, "cancelled")
        _job_store(job, result.records, summaries, notes=result.notes)
    except DetectionCancelled:
        raster_path.unlink(missing_ok=True)
        _job_finish(job, JobStatus.CANCELLED, _("已取消，未保存任何图斑"))
        return job
    except ClusterError as exc:
        raster_path.unlink(missing_ok=True)
        message = _("影像计算集群不可用：%(problem)s") % {"problem": exc.problem}
        _job_finish(job, JobStatus.FAILED, message)
        if raise_errors:
            raise InvalidInput(message, code="cluster_unavailable", field=None) from exc
        return job
    except (RasterError, InvalidInput) as exc:
        raster_path.unlink(missing_ok=True)
        message = str(exc.message) if isinstance(exc, InvalidInput) else scene_problem(exc)
        _job_finish(job, JobStatus.FAILED, message)
        if raise_errors:
            code = getattr(exc, "code", None) or "bad_scene"
            raise InvalidInput(message, code=code, field=getattr(exc, "field", None) or "scene") from exc
        return job
    except BaseException:
        raster_path.unlink(missing_ok=True)
        log.exception("detection job %s failed", job.pk)
        _job_finish(job, JobStatus.FAILED, _("内部错误，请联系管理员（任务 #%(id)s）。") % {"id": job.pk})
        raise
    job.refresh_from_db()
    return job


def _job_finish(job: DetectionJob, status: str, message: str) -> None:
    DetectionJob.objects.filter(pk=job.pk).update(status=status, message=message[:4000], finished_at=timezone.now())
    job.refresh_from_db()


def _cells_over(job: DetectionJob) -> list[GridCell]:
    overlap = job.before.footprint.intersection(job.after.footprint)
    return list(GridCell.objects.filter(geom__intersects=overlap).only("id", "code", "geom"))


def _cell_summaries(job: DetectionJob, raster_path: str) -> list[tuple[int, object]]:
    cells = _cells_over(job)
    if not cells:
        return []
    zones = [(c.pk, shapely.from_wkb(bytes(c.geom.wkb))) for c in cells]
    return [(z.zone_id, z) for z in summarize_by_zones(raster_path, zones)]


# Raw SQL: the cell each candidate overlaps most, for all candidates in one round trip
# (DISTINCT ON picks the largest intersection per candidate; ties go to the lowest code).
_CELL_SQL = """
    WITH cand AS (
        SELECT ord, ST_GeomFromWKB(wkb, %s) AS g FROM unnest(%s::bytea[]) WITH ORDINALITY AS u(wkb, ord)
    )
    SELECT DISTINCT ON (cand.ord) cand.ord, c.id, c.township_id, t.parent_id
      FROM cand
      JOIN gridgov_gridcell c ON ST_Intersects(c.geom, cand.g)
      JOIN gridgov_adminarea t ON t.id = c.township_id
     ORDER BY cand.ord, ST_Area(ST_Intersection(c.geom, cand.g)) DESC, c.code
"""


def _cells_for(geoms: list[MultiPolygon]) -> dict[int, tuple[int, int, int]]:
    if not geoms:
        return {}
    with connection.cursor() as cur:
        cur.execute(_CELL_SQL, [SRID, [bytes(g.wkb) for g in geoms]])
        return {int(ord_) - 1: (cell, town, dist) for ord_, cell, town, dist in cur.fetchall()}


def _forbids_construction(access_list: list) -> str | None:
    """The access-list item that forbids building, if any (spatial-layout dimension)."""
    for item in access_list or []:
        text = str(item.get("text", ""))
        if (
            item.get("dimension") == "spatial"
            and any(w in text for w in FORBID_WORDS)
            and any(w in text for w in BUILD_WORDS)
        ):
            return text
    return None


@dataclass
class Flag:
    violation: bool
    reason: str


def violation_for(change_type: str, hits: list[dict], access_lists: dict[str, list]) -> Flag:
    """Flag a change: inside the red line, inside a priority-protection unit, or construction
    in a unit whose access list forbids building."""
    reasons = []
    red = [h["code"] for h in hits if h["layer"] == "red_line"]
    if red:
        reasons.append(f"位于生态保护红线内（{'、'.join(red)}）")
    priority = [h["code"] for h in hits if h["layer"] == "control_unit" and h["category"] == "priority"]
    if priority:
        reasons.append(f"位于优先保护单元内（{'、'.join(priority)}）")
    if change_type == ChangeType.CONSTRUCTION:
        for h in hits:
            if h["layer"] != "control_unit":
                continue
            item = _forbids_construction(access_lists.get(h["code"], []))
            if item:
                reasons.append(f"新增建设位于准入清单禁止建设的单元 {h['code']}（{item[:60]}）")
    return Flag(bool(reasons), "；".join(reasons))


def _geos_multipolygon(geom) -> MultiPolygon:
    g = shapely.make_valid(geom) if not geom.is_valid else geom
    polys = [p for p in getattr(g, "geoms", [g]) if p.geom_type == "Polygon"]
    polys += [q for p in getattr(g, "geoms", []) if p.geom_type == "MultiPolygon" for q in p.geoms]
    out = GEOSGeometry(memoryview(shapely.MultiPolygon(polys).wkb), srid=SRID)
    return out


def _iou(a: GEOSGeometry, b: GEOSGeometry) -> float:
    inter = a.intersection(b).area
    union = a.union(b).area
    return inter / union if union > 0 else 0.0


@transaction.atomic
def _job_store(job: DetectionJob, records: list, summaries: list[tuple[int, object]], *, notes: list[str]) -> None:
    """Replace the pair's candidates by this run's, in one transaction.

    Unreviewed candidates of earlier runs of the same pair are deleted; a reviewed one that a
    new polygon matches (same type, IoU >= 0.5) moves to this job with its decision and case,
    so a re-run never duplicates what a reviewer has already decided."""
    from zoning.models import ControlUnit
    from zoning.selectors import zones_intersecting

    locked = DetectionJob.objects.select_for_update().get(pk=job.pk)
    if locked.cancel_requested:
        raise DetectionCancelled(job.before.path, "cancelled")
    pair_jobs = DetectionJob.objects.filter(before=job.before, after=job.after).exclude(pk=job.pk)
    ChangeCandidate.objects.filter(job__in=pair_jobs, status=CandidateStatus.NEW).delete()
    reviewed = list(ChangeCandidate.objects.filter(job__in=pair_jobs).exclude(status=CandidateStatus.NEW))

    geoms = [_geos_multipolygon(r.geometry) for r in records]
    cells = _cells_for(geoms)
    hits_by_i = []
    unit_codes = set()
    for g in geoms:
        hits = [
            {"code": z.code, "name": z.name, "layer": z.layer, "category": z.category} for z in zones_intersecting(g)
        ]
        unit_codes.update(h["code"] for h in hits if h["layer"] == "control_unit")
        hits_by_i.append(hits)
    access = dict(ControlUnit.objects.filter(code__in=unit_codes).values_list("code", "access_list"))

    new: list[ChangeCandidate] = []
    for i, (rec, g) in enumerate(zip(records, geoms, strict=True)):
        cell, town, dist = cells.get(i, (None, None, None))
        flag = violation_for(rec.change_type, hits_by_i[i], access)
        fields = dict(
            job=job,
            geom=g,
            change_type=rec.change_type,
            area_m2=float(rec.area_m2),
            confidence=float(min(1.0, max(0.0, rec.confidence))),
            mean_index_change=float(rec.mean_index_change),
            index=rec.index or "",
            pixel_count=int(rec.pixel_count),
            grid_cell_id=cell,
            township_id=town,
            district_id=dist,
            zones=hits_by_i[i],
            violation=flag.violation,
            violation_reason=flag.reason[:1000],
        )
        match = next(
            (
                c
                for c in reviewed
                if c.change_type == rec.change_type and c.geom.intersects(g) and _iou(c.geom, g) >= 0.5
            ),
            None,
        )
        if match is not None:
            reviewed.remove(match)
            for k, v in fields.items():
                setattr(match, k, v)
            match.full_clean(exclude=["job", "grid_cell", "township", "district", "issue", "reviewed_by"])
            match.save()
            continue
        cand = ChangeCandidate(**fields)
        # Field validation only: the foreign keys come from the rows just read, and a query
        # per key per candidate would dominate the store of a large scene.
        cand.full_clean(
            exclude=["job", "grid_cell", "township", "district", "issue", "reviewed_by"], validate_constraints=False
        )
        new.append(cand)
    ChangeCandidate.objects.bulk_create(new, batch_size=500)

    GridCellSummary.objects.filter(job=job).delete()
    counts: dict[int, int] = {}
    for cid, _t, _d in cells.values():
        counts[cid] = counts.get(cid, 0) + 1
    GridCellSummary.objects.bulk_create(
        [
            GridCellSummary(
                job=job,
                cell_id=cell_id,
                vegetation_loss_m2=s.changed_area_m2.get("vegetation_loss", 0.0),
                construction_m2=s.changed_area_m2.get("construction", 0.0),
                water_change_m2=s.changed_area_m2.get("water_change", 0.0),
                valid_area_m2=s.valid_area_m2,
                candidate_count=counts.get(cell_id, 0),
            )
            for cell_id, s in summaries
        ],
        batch_size=1000,
    )
    total = ChangeCandidate.objects.filter(job=job).count()
    for other in pair_jobs:  # an earlier run of the pair: its candidates moved here or are gone
        left = other.candidates.count()
        if left != other.candidate_count:
            DetectionJob.objects.filter(pk=other.pk).update(
                candidate_count=left,
                message=_("已由任务 #%(id)s 重新检测，图斑已转入该任务（本任务剩余 %(n)s 个）")
                % {"id": job.pk, "n": left},
            )
    locked.status = JobStatus.DONE
    locked.progress = 1.0
    locked.candidate_count = total
    locked.finished_at = timezone.now()
    locked.change_raster_path = str(job_output_dir(job) / "change.tif")
    locked.notes = list(notes)
    n_viol = ChangeCandidate.objects.filter(job=job, violation=True).count()
    locked.message = _("完成：%(total)s 个变化图斑，其中疑似违规 %(viol)s 个") % {"total": total, "viol": n_viol}
    locked.save(
        update_fields=["status", "progress", "candidate_count", "finished_at", "change_raster_path", "notes", "message"]
    )


# ----------------------------------------------------------------------------- review
CATEGORY_BY_TYPE = {
    ChangeType.VEGETATION_LOSS: "ecology.illegal_logging",  # 毁林
    ChangeType.CONSTRUCTION: "ecology",  # 生态: no "illegal construction" code in the taxonomy
    ChangeType.WATER_CHANGE: "ecology",
}


def issue_category_for(candidate: ChangeCandidate) -> str:
    if any(z.get("layer") == "red_line" for z in candidate.zones):
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


@transaction.atomic
def candidate_confirm(*, candidate: ChangeCandidate, user, note: str = ""):
    """Confirm a candidate: open a patrol case (source imagery) and link both ways."""
    from patrol.services import issue_report

    c = _lock_new(candidate, user)
    point = c.geom.point_on_surface
    point.srid = SRID
    label = ChangeType(c.change_type).label
    synthetic = "（合成影像演示）" if c.job.synthetic else ""
    description = (
        f"遥感监测发现{label}约 {c.area_m2:,.0f} 平方米（置信度 {c.confidence:.2f}，"
        f"{c.job.before.acquired:%Y-%m-%d}→{c.job.after.acquired:%Y-%m-%d}，"
        f"任务 #{c.job_id}，图斑 #{c.pk}）{synthetic}。"
    )
    if c.violation_reason:
        description += f"疑似违规：{c.violation_reason}。"
    if note.strip():
        description += f"审核意见：{note.strip()}"
    issue, _created = issue_report(
        reporter=user,
        point=point,
        category=issue_category_for(c),
        description=description[:4000],
        source="imagery",
        client_uuid=uuid.uuid5(NAMESPACE, f"candidate-{c.pk}"),
        crs_note="WGS84（遥感图斑内点）",
    )
    now = timezone.now()
    c.status = CandidateStatus.CONFIRMED
    c.issue = issue
    c.reviewed_by = user
    c.reviewed_at = now
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
