"""Vector files coming in (imports and site files): received to disk, read in a limited child.

`received` streams an upload into a private temporary folder (refusing names it does not
accept and anything over the size limit, counting the bytes actually written) and removes the
folder afterwards. `read_units_file` and `site_from_upload` run zoning/vector_read.py through
`gridgov.untrusted.run_isolated`, with the GeoJSON, GeoPackage and Shapefile drivers only, and
turns whatever the child refuses into an error naming the 文件 field in the user's language.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry
from django.utils.translation import gettext as _

from gridgov import untrusted
from gridgov.errors import GridGovError, InvalidInput, PayloadTooLarge

from . import conf
from .vector_read import DRIVERS, ReadLimits, UnitsData, read_site, read_units

# The fork server imports the reader and warms PROJ and GDAL once, not each child.
untrusted.preload("zoning.vector_warm")

# What an upload's name may declare; a bare .shp cannot carry its sidecars.
ACCEPTED_SUFFIXES = (".zip", ".gpkg", ".geojson", ".json")
MB = 1024 * 1024


@contextmanager
def received(upload, *, max_bytes: int) -> Iterator[Path]:
    """The upload saved as `upload<suffix>` in a fresh private folder, removed on exit."""
    name = os.path.basename(getattr(upload, "name", "") or "")
    suffix = Path(name).suffix.lower()
    if suffix == ".shp":
        raise InvalidInput(
            _("Shapefile 请打包为 zip 上传（含 .shp、.shx、.dbf、.prj）。"), code="shp_not_zipped", field="file"
        )
    if suffix not in ACCEPTED_SUFFIXES:
        raise InvalidInput(
            _("不支持的文件类型：请上传 zip（Shapefile）、GeoPackage（.gpkg）或 GeoJSON（.geojson）。"),
            code="file_type",
            field="file",
        )
    too_large = PayloadTooLarge(
        _("上传文件超过 %(mb)s MB。") % {"mb": max(1, max_bytes // MB)}, code="file_too_large", field="file"
    )
    if (getattr(upload, "size", 0) or 0) > max_bytes:
        raise too_large
    workdir = Path(tempfile.mkdtemp(prefix="zoning-upload-"))
    try:
        target = workdir / f"upload{suffix}"
        written = 0
        with target.open("wb") as out:
            for chunk in upload.chunks():
                written += len(chunk)
                if written > max_bytes:
                    raise too_large
                out.write(chunk)
        yield target
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def read_units_file(path: Path, *, gcj02: bool, city_wkb: bytes) -> UnitsData:
    """Read an import file, and check its geometry, in the child."""
    limits = conf.limits()
    return _in_child(read_units, path, gcj02=gcj02, city_wkb=city_wkb, read=_read_limits(limits.import_vertices))


def site_from_upload(upload, *, gcj02: bool) -> GEOSGeometry:
    """The site of an uploaded file: its polygons, merged (a storage-SRID geometry)."""
    limits = conf.limits()
    with received(upload, max_bytes=limits.site_bytes) as path:
        site = _in_child(read_site, path, gcj02=gcj02, read=_read_limits(limits.site_vertices))
    return GEOSGeometry(memoryview(site.wkb), srid=settings.GRIDGOV_SRID)


def _read_limits(vertices: int) -> ReadLimits:
    limits = conf.limits()
    return ReadLimits(vertices=vertices, extracted_bytes=limits.extracted_bytes, zip_members=limits.zip_members)


def _in_child(reader, path: Path, *, read: ReadLimits, **kwargs):
    """Run a zoning.vector_read reader on `path` in the limited child; a zip unpacks into a folder
    removed afterwards. What the child refuses becomes an error naming the file."""
    limits = conf.limits()
    workdir = tempfile.mkdtemp(prefix="zoning-read-")
    try:
        return untrusted.run_isolated(
            reader,
            str(path),
            workdir=workdir,
            read_limits=read,
            **kwargs,
            limits=untrusted.Limits(
                timeout_s=limits.read_timeout_s,
                memory_mb=limits.read_memory_mb,
                file_size_mb=limits.extracted_bytes // MB + 1,
                gdal_drivers=DRIVERS,
            ),
        )
    except untrusted.Refused as refused:
        raise refusal_error(refused) from None
    except untrusted.WorkerTimeout:
        raise PayloadTooLarge(
            _("读取文件超时（%(s)s 秒）：文件过大或过于复杂。") % {"s": int(limits.read_timeout_s)},
            code="read_timeout",
            field="file",
        ) from None
    except untrusted.WorkerOutOfMemory:
        raise PayloadTooLarge(
            _("读取文件超出内存上限：文件过大或过于复杂。"), code="read_memory", field="file"
        ) from None
    except untrusted.WorkerCrashed:
        raise InvalidInput(_("无法读取文件，文件可能已损坏。"), code="unreadable", field="file") from None
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def refusal_error(refused: untrusted.Refused) -> GridGovError:
    """The error, in the request's language, for a code of zoning.vector_read."""
    p = refused.params
    messages = {
        "file_type": _("不支持的文件类型：请上传 zip（Shapefile）、GeoPackage（.gpkg）或 GeoJSON（.geojson）。"),
        "not_format": _("文件内容不是 %(format)s，与文件名不符。") % {"format": p.get("format", "")},
        "crs_reference": _("GeoJSON 的 crs 只能写 EPSG 编码，不能是链接或网址。"),
        "gpkg_view": _("GeoPackage 中含有视图或虚拟表，请导出为普通图层后再上传。"),
        "shp_incomplete": _("Shapefile 缺少 %(part)s 文件。") % {"part": p.get("part", "")},
        "no_prj": _("Shapefile 缺少 .prj 坐标系文件。"),
        "bad_prj": _("Shapefile 的 .prj 不是坐标系定义（WKT）。"),
        "bad_cpg": _("Shapefile 的 .cpg 不是字符编码名称。"),
        "bad_sidecar": _("Shapefile 的 %(part)s 文件过大。") % {"part": p.get("part", "")},
        "zip_corrupt": _("zip 文件已损坏，无法打开。"),
        "zip_members": _("zip 中文件过多（最多 %(max)s 个）。") % {"max": p.get("max", "")},
        "zip_unsafe": _("zip 中的路径“%(name)s”越出目录或是链接，拒绝处理。") % {"name": p.get("name", "")},
        "zip_encrypted": _("zip 中的文件已加密，无法读取。"),
        "zip_duplicate": _("zip 中有重名的文件“%(name)s”。") % {"name": p.get("name", "")},
        "zip_no_data": _("zip 中没有 Shapefile、GeoPackage 或 GeoJSON。"),
        "zip_many_data": _("zip 中有多个数据文件（%(names)s），请每次上传一个。") % {"names": p.get("names", "")},
        "unreadable": _("无法读取文件，文件可能已损坏。"),
        "no_features": _("文件中没有要素。"),
        "site_not_polygon": _("选址文件中的几何应为面（Polygon/MultiPolygon）。"),
        "too_many_vertices": _("文件中的几何顶点过多（最多 %(limit)s 个）。") % {"limit": p.get("limit", "")},
        "no_crs": _("文件未声明坐标系（缺少 .prj 或 crs）。"),
        "bad_crs": _("无法识别文件声明的坐标系。"),
        "crs_not_supported": _("不支持文件的坐标系 %(label)s：请使用 EPSG:4490、4326 或 CGCS2000 高斯-克吕格投影。")
        % {"label": p.get("label", "")},
    }
    message = messages.get(refused.code, messages["unreadable"])
    field = "crs" if refused.code in ("no_crs", "bad_crs", "crs_not_supported") else "file"
    extra = {"detail": p["detail"]} if p.get("detail") else None
    if refused.code == "zip_too_large":
        return PayloadTooLarge(
            _("zip 解压后超过 %(mb)s MB。") % {"mb": p.get("mb", "")}, code="zip_too_large", field="file"
        )
    return InvalidInput(message, code=refused.code, field=field, extra=extra)
