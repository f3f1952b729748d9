"""Scenes: register a product (validated, its footprint in the storage SRID), every product
under a folder, and pair scenes by sensor, footprint and date."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import shapely
from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry, Polygon
from django.db import transaction
from django.utils.translation import gettext as _
from pyproj import Transformer

from geodata import scene_read
from geodata.models import Scene
from geodata.problems import scene_problem
from geodata.raster import RasterError
from geodata.raster.constants import SENSORS
from geodata.raster.errors import SensorMismatchError
from geodata.raster.products import UnsafePathError, looks_like_stac, product_kind
from gridgov import untrusted
from gridgov.errors import InvalidInput, PayloadTooLarge

SRID = settings.GRIDGOV_SRID
TIFF_SUFFIXES = (".tif", ".tiff")
#: Reading one product in the child: its header, metadata and first and last pixels of each band.
READ_TIMEOUT_S = 120.0
READ_MEMORY_MB = 2048
untrusted.preload("geodata.scene_warm")


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


def _read_isolated(path: str | Path, *, sensor: str | None, acquired: dt.date | None):
    """`geodata.scene_read.read_scene` in the limited child; its refusal re-raised as the raster
    error it carries, a child that does not answer as an error naming the product."""
    name = Path(path).name
    limits = untrusted.Limits(
        timeout_s=READ_TIMEOUT_S, memory_mb=READ_MEMORY_MB, file_size_mb=1, gdal_drivers=scene_read.DRIVERS
    )
    try:
        return untrusted.run_isolated(scene_read.read_scene, str(path), sensor=sensor, acquired=acquired, limits=limits)
    except untrusted.Refused as refused:
        raise refused.params["error"] from None
    except untrusted.WorkerTimeout:
        raise PayloadTooLarge(
            _("读取影像 %(name)s 超时（%(s)s 秒）：文件过大或已损坏。") % {"name": name, "s": int(READ_TIMEOUT_S)},
            code="read_timeout",
            field="path",
        ) from None
    except untrusted.WorkerOutOfMemory:
        raise PayloadTooLarge(
            _("读取影像 %(name)s 超出内存上限：文件过大或已损坏。") % {"name": name}, code="read_memory", field="path"
        ) from None
    except untrusted.WorkerCrashed:
        raise InvalidInput(
            _("无法读取影像 %(name)s，文件可能已损坏。") % {"name": name}, code="bad_scene", field="path"
        ) from None


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
        source, grid = _read_isolated(path, sensor=sensor, acquired=acquired)
    except UnsafePathError as exc:
        raise InvalidInput(scene_problem(exc), code="unsafe_path", field="path") from exc
    except SensorMismatchError as exc:
        if exc.code == "sensor_required":
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
    """Register every product under `folder`; one bad file fails the lot, naming the file."""
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


def pair_check(before: Scene, after: Scene) -> None:
    """Two scenes a detection can compare: distinct, one sensor, overlapping, in date order."""
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
