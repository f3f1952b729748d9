"""Import and export of control units: zipped Shapefile, GeoPackage, GeoJSON (read with pyogrio).

Import is set-based so that 10,000 units load in seconds: the file is read once with pyogrio,
checked per feature with vectorised shapely (code, name, category, polygon type, validity,
inside the city, no overlap inside the file), copied into a temporary table, checked against
the units already in the database in one query, and then written with two INSERT … SELECT
statements (units and their versions). A dry run stops before writing and returns the
per-feature errors; a commit with any error writes nothing.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path, PurePosixPath

import numpy as np
import pyogrio
import shapely
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from pyproj import CRS, Transformer

from gridgov import coords
from gridgov.errors import InvalidInput, PayloadTooLarge
from gridgov.models import AdminArea, AreaLevel

from .models import DIGIT_CATEGORY, UNIT_CODE_RE, Category, Dimension
from .services import OUTSIDE_CITY_TOLERANCE_M2, OVERLAP_TOLERANCE_M2, _require_editor, _require_reason

MAX_UPLOAD_BYTES = getattr(settings, "ZONING_MAX_UPLOAD_BYTES", 50 * 1024 * 1024)
MAX_EXTRACTED_BYTES = getattr(settings, "ZONING_MAX_EXTRACTED_BYTES", 300 * 1024 * 1024)
MAX_ZIP_MEMBERS = 2000

# Field names of delivered 三线一单 shapefiles, and our own export names.
FIELD_CODE = ("HJZHGKDYBM", "code")
FIELD_NAME = ("HJZHGKDYMC", "name")
FIELD_CATEGORY = ("ZHGKDYFL", "category")
DIMENSION_FIELDS = {
    "KJBJYS": Dimension.SPATIAL,
    "PWWPFGK": Dimension.POLLUTION,
    "HJFXFK": Dimension.RISK,
    "ZYKFXLYQ": Dimension.RESOURCE,
}
CATEGORY_WORDS = [("优先", Category.PRIORITY), ("重点", Category.KEY), ("一般", Category.GENERAL)]
_CODE_RE = re.compile(UNIT_CODE_RE)


@dataclass
class ImportResult:
    dry_run: bool
    features: int
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    source_crs: str = ""

    def as_dict(self) -> dict:
        return {
            "dry_run": self.dry_run,
            "features": self.features,
            "source_crs": self.source_crs,
            "created": len(self.created),
            "updated": len(self.updated),
            "created_codes": self.created[:200],
            "updated_codes": self.updated[:200],
            "errors": self.errors[:500],
            "error_count": len(self.errors),
            "committed": not self.dry_run and not self.errors,
        }


# --- reading the upload ----------------------------------------------------------------------


def save_upload(upload, workdir: Path) -> Path:
    """Write an uploaded file into workdir (refusing oversize files); unzip archives safely."""
    size = getattr(upload, "size", None) or 0
    if size > MAX_UPLOAD_BYTES:
        raise PayloadTooLarge(f"上传文件超过 {MAX_UPLOAD_BYTES // 1024 // 1024} MB / file too large", field="file")
    name = os.path.basename(getattr(upload, "name", "") or "upload")
    suffix = name.lower().rsplit(".", 1)[-1] if "." in name else ""
    if suffix not in ("zip", "gpkg", "geojson", "json", "shp"):
        raise InvalidInput(f"不支持的文件类型 {name!r}：请上传 zip（Shapefile）、gpkg 或 geojson", field="file")
    if suffix == "shp":
        raise InvalidInput("Shapefile 请打包为 zip 上传（含 .shp .shx .dbf .prj）", field="file")
    target = workdir / ("upload." + suffix)
    with open(target, "wb") as out:
        for chunk in upload.chunks() if hasattr(upload, "chunks") else [upload.read()]:
            out.write(chunk)
    if suffix != "zip":
        return target
    return extract_zip(target, workdir / "unzipped")


def extract_zip(path: Path, dest: Path) -> Path:
    """Extract a zip, refusing paths that escape the folder and archives that inflate too far."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise InvalidInput("zip 文件已损坏，无法打开 / corrupt zip", field="file")
    with archive:
        members = archive.infolist()
        if len(members) > MAX_ZIP_MEMBERS:
            raise InvalidInput("zip 内文件过多", field="file")
        total = sum(m.file_size for m in members)
        if total > MAX_EXTRACTED_BYTES:
            raise PayloadTooLarge(
                f"zip 解压后超过 {MAX_EXTRACTED_BYTES // 1024 // 1024} MB / archive too large", field="file"
            )
        dest.mkdir(parents=True)
        root = dest.resolve()
        for m in members:
            name = m.filename.replace("\\", "/")
            pure = PurePosixPath(name)
            if pure.is_absolute() or ".." in pure.parts or (m.external_attr >> 16) & 0o170000 == 0o120000:
                raise InvalidInput(f"zip 中的路径 {m.filename!r} 越出目录，拒绝处理 / unsafe path in zip", field="file")
            out = (dest / pure).resolve()
            if not str(out).startswith(str(root) + os.sep):
                raise InvalidInput(f"zip 中的路径 {m.filename!r} 越出目录，拒绝处理 / unsafe path in zip", field="file")
            if m.is_dir():
                continue
            out.parent.mkdir(parents=True, exist_ok=True)
            try:
                with archive.open(m) as src, open(out, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                raise InvalidInput(f"zip 文件已损坏：{m.filename}（{exc}）/ corrupt zip", field="file")
    found = [p for p in dest.rglob("*") if p.suffix.lower() in (".shp", ".gpkg", ".geojson", ".json")]
    if not found:
        raise InvalidInput("zip 中没有 Shapefile、GeoPackage 或 GeoJSON", field="file")
    if len(found) > 1:
        raise InvalidInput(
            f"zip 中有多个数据文件（{', '.join(p.name for p in found[:5])}），请每次导入一个", field="file"
        )
    data = found[0]
    if (
        data.suffix.lower() == ".shp"
        and not data.with_suffix(".prj").exists()
        and not data.with_suffix(".PRJ").exists()
    ):
        raise InvalidInput(f"Shapefile {data.name} 缺少 .prj 坐标系文件 / shapefile without .prj", field="file")
    return data


@dataclass
class Source:
    crs: str
    geoms: np.ndarray  # shapely geometries in WGS84 (storage SRID)
    fields: dict[str, np.ndarray]


def read_features(path: Path, *, gcj02: bool = False) -> Source:
    """Read every feature with pyogrio and reproject to WGS84, from the CRS the file declares."""
    try:
        meta, _fids, wkb, field_data = pyogrio.raw.read(path, encoding=None)
    except Exception as exc:  # pyogrio raises DataSourceError/DataLayerError and friends
        raise InvalidInput(f"无法读取文件：{str(exc)[:200]} / unreadable file", field="file")
    names = list(meta["fields"])
    fields = {n: field_data[i] for i, n in enumerate(names)}
    crs_text = meta.get("crs")
    if not crs_text:
        raise InvalidInput("文件未声明坐标系（缺少 .prj 或 crs）/ unknown CRS", field="crs")
    try:
        crs = CRS.from_user_input(crs_text)
    except Exception:
        raise InvalidInput(f"无法识别的坐标系 {str(crs_text)[:60]!r} / unknown CRS", field="crs")
    epsg = crs.to_epsg(min_confidence=70)
    label = f"EPSG:{epsg}" if epsg else crs.name
    if epsg not in (4326, 4490) and not (
        crs.is_projected and crs.geodetic_crs and crs.geodetic_crs.to_epsg() in (4490, 4326)
    ):
        if not (crs.is_geographic and crs.ellipsoid and crs.ellipsoid.name in ("WGS 84", "GRS 1980", "CGCS2000")):
            raise InvalidInput(
                f"不支持的坐标系 {label}：请使用 EPSG:4490、4326 或 CGCS2000 高斯-克吕格投影", field="crs"
            )
    geoms = shapely.from_wkb(np.asarray(wkb, dtype=object)) if len(wkb) else np.array([], dtype=object)
    if epsg != 4326 and len(geoms):
        transformer = _transformer(crs.to_wkt())

        def project(xy: np.ndarray) -> np.ndarray:
            x, y = transformer.transform(xy[:, 0], xy[:, 1])
            return np.column_stack([x, y])

        geoms = shapely.transform(geoms, project)
    if gcj02 and len(geoms):

        def ungcj(xy: np.ndarray) -> np.ndarray:
            x, y = coords.gcj02_to_wgs84(xy[:, 0], xy[:, 1])
            return np.column_stack([x, y])

        geoms = shapely.transform(geoms, ungcj)
    return Source(crs=label, geoms=geoms, fields=fields)


@lru_cache(maxsize=16)
def _transformer(crs_wkt: str) -> Transformer:
    return Transformer.from_crs(CRS.from_wkt(crs_wkt), "EPSG:4326", always_xy=True)


def _field(fields: dict, names: tuple[str, ...]) -> np.ndarray | None:
    lower = {k.lower(): k for k in fields}
    for n in names:
        if n.lower() in lower:
            return fields[lower[n.lower()]]
    return None


def _text(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


_CATEGORY_VALUES = frozenset(Category.values)


def _category(text: str) -> str | None:
    if text in _CATEGORY_VALUES:
        return text
    for word, cat in CATEGORY_WORDS:
        if word in text:
            return cat
    return None


def _m2_per_deg2(lat: float) -> float:
    return (111_320.0**2) * math.cos(math.radians(lat))


# --- the import ------------------------------------------------------------------------------


def units_import(*, upload, reason: str, dry_run: bool, actor, gcj02: bool = False) -> ImportResult:
    """Import control units from an uploaded file; all or nothing, one version per unit."""
    _require_editor(actor)
    reason = _require_reason(reason) if not dry_run or reason else "（试导入）"
    workdir = Path(tempfile.mkdtemp(prefix="zoning-import-"))
    try:
        path = save_upload(upload, workdir)
        return units_import_path(path=path, reason=reason, dry_run=dry_run, actor=actor, gcj02=gcj02)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def units_import_path(*, path: Path, reason: str, dry_run: bool, actor, gcj02: bool = False) -> ImportResult:
    src = read_features(path, gcj02=gcj02)
    n = len(src.geoms)
    result = ImportResult(dry_run=dry_run, features=n, source_crs=src.crs)
    if n == 0:
        raise InvalidInput("文件中没有要素 / the file holds no features", field="file")
    codes_f, names_f, cats_f = (_field(src.fields, f) for f in (FIELD_CODE, FIELD_NAME, FIELD_CATEGORY))
    if codes_f is None:
        raise InvalidInput("缺少编码字段 HJZHGKDYBM（或 code）/ missing code field", field="HJZHGKDYBM")
    if names_f is None:
        raise InvalidInput("缺少名称字段 HJZHGKDYMC（或 name）/ missing name field", field="HJZHGKDYMC")
    dim_fields = {dim: _field(src.fields, (fname, dim.value)) for fname, dim in DIMENSION_FIELDS.items()}
    districts = dict(AdminArea.objects.filter(level=AreaLevel.DISTRICT).values_list("code", "id"))
    city_code = getattr(settings, "GRIDGOV_CITY_CODE", "330100")
    errors: list[dict] = []

    def err(i: int, code: str, fld: str, message: str, **extra) -> None:
        errors.append({"feature": i + 1, "code": code or None, "field": fld, "message": message, **extra})

    codes, names, cats, district_ids, access = [], [], [], [], []
    seen: dict[str, int] = {}
    for i in range(n):
        code = _text(codes_f[i])
        name = _text(names_f[i])
        codes.append(code)
        names.append(name)
        cat = None
        if not _CODE_RE.match(code):
            err(i, code, "HJZHGKDYBM", f"第 {i + 1} 个要素：单元编码 {code!r} 格式错误（ZH+6 位区县+类别码+4 位序号）")
        else:
            cat = DIGIT_CATEGORY[code[8]]
            if code in seen:
                err(i, code, "HJZHGKDYBM", f"第 {i + 1} 个要素：编码 {code} 与第 {seen[code] + 1} 个要素重复")
            seen.setdefault(code, i)
            county = code[2:8]
            if county != city_code and county not in districts:
                err(i, code, "HJZHGKDYBM", f"第 {i + 1} 个要素 {code}：区县代码 {county} 不是本市区县")
        if cats_f is not None and _text(cats_f[i]):
            given = _category(_text(cats_f[i]))
            if given is None:
                err(i, code, "ZHGKDYFL", f"第 {i + 1} 个要素 {code}：无法识别的管控类别 {_text(cats_f[i])!r}")
            elif cat and given != cat:
                err(i, code, "ZHGKDYFL", f"第 {i + 1} 个要素 {code}：管控类别 {_text(cats_f[i])} 与编码类别码不符")
        if not name:
            err(i, code, "HJZHGKDYMC", f"第 {i + 1} 个要素 {code}：缺少单元名称")
        cats.append(cat or "general")
        district_ids.append(districts.get(code[2:8]) if len(code) >= 8 else None)
        items = []
        for dim, values in dim_fields.items():
            if values is None:
                continue
            for line in re.split(r"[\r\n]+", _text(values[i])):
                if line.strip():
                    items.append({"dimension": dim.value, "text": line.strip()[:4000]})
        access.append(items)

    # Geometry checks, vectorised.
    geoms = src.geoms
    types = shapely.get_type_id(geoms)
    polygonal = np.isin(types, [3, 6])  # Polygon, MultiPolygon
    for i in np.flatnonzero(~polygonal):
        gtype = "空" if geoms[i] is None else geoms[i].geom_type
        err(
            int(i),
            codes[i],
            "geometry",
            f"第 {i + 1} 个要素 {codes[i]}：几何类型 {gtype} 不是面（Polygon/MultiPolygon）",
        )
    valid = np.zeros(n, dtype=bool)
    valid[polygonal] = shapely.is_valid(geoms[polygonal])
    for i in np.flatnonzero(polygonal & ~valid):
        reason_text = shapely.is_valid_reason(geoms[i])
        repaired = shapely.make_valid(geoms[i])
        err(
            int(i),
            codes[i],
            "geometry",
            f"第 {i + 1} 个要素 {codes[i]}：几何无效 {reason_text}",
            reason=reason_text,
            repaired=json.loads(shapely.to_geojson(repaired)),
        )
    ok = polygonal & valid
    city = AdminArea.objects.filter(code=city_code).values_list("geom", flat=True).first()
    if city is None:
        raise InvalidInput("未加载市域边界，无法校验 / city boundary not loaded", field="file")
    city_shape = shapely.from_wkb(bytes(city.wkb))
    shapely.prepare(city_shape)
    inside = np.ones(n, dtype=bool)
    inside[ok] = shapely.covers(city_shape, geoms[ok])  # the prepared geometry must come first
    for i in np.flatnonzero(ok & ~inside):
        outside = coords.area_m2(shapely.difference(geoms[i], city_shape))
        if outside > OUTSIDE_CITY_TOLERANCE_M2:
            err(
                int(i),
                codes[i],
                "geometry",
                f"第 {i + 1} 个要素 {codes[i]}：超出市域 {outside:.0f} m²",
                outside_area_m2=round(outside, 1),
            )
    # Overlaps inside the file: candidate pairs from an STRtree, interiors meeting in 2D.
    idx = np.flatnonzero(ok)
    if len(idx) > 1:
        tree = shapely.STRtree(geoms[idx])
        left, right = tree.query(geoms[idx], predicate="intersects")
        keep = left < right
        left, right = idx[left[keep]], idx[right[keep]]
        if len(left):
            inter = shapely.relate_pattern(geoms[left], geoms[right], "2********")
            left, right = left[inter], right[inter]
            if len(left):
                pieces = shapely.intersection(geoms[left], geoms[right])
                for a, b, piece in zip(left, right, pieces, strict=True):
                    area = coords.area_m2(piece)
                    if area > OVERLAP_TOLERANCE_M2:
                        err(
                            int(b),
                            codes[b],
                            "geometry",
                            f"第 {b + 1} 个要素 {codes[b]} 与第 {a + 1} 个要素 {codes[a]} 重叠 {area:.0f} m²",
                            overlap_with=codes[a],
                            area_m2=round(area, 1),
                            overlap=json.loads(shapely.to_geojson(piece)),
                        )

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS zoning_import_stage")
            cursor.execute(
                "CREATE TEMP TABLE zoning_import_stage (idx int, code text, name text, category text, district_id int, "
                "access_list jsonb, geom geometry(Geometry, 4326)) ON COMMIT DROP"
            )
            # Polygons become MultiPolygons in SQL (ST_Multi), cheaper than one Python object each.
            hexes = shapely.to_wkb(shapely.set_srid(geoms[ok], 4326), hex=True, include_srid=True)
            # COPY is the fastest way in; the raw psycopg cursor carries it.
            with cursor.cursor.copy(
                "COPY zoning_import_stage (idx, code, name, category, district_id, access_list, geom) FROM STDIN"
            ) as copy:
                for j, i in enumerate(idx):
                    copy.write_row(
                        (
                            int(i),
                            codes[i],
                            names[i],
                            cats[i],
                            district_ids[i],
                            json.dumps(access[i], ensure_ascii=False),
                            hexes[j],
                        )
                    )
            cursor.execute("UPDATE zoning_import_stage SET geom = ST_Multi(geom) WHERE GeometryType(geom) = 'POLYGON'")
            cursor.execute("CREATE INDEX ON zoning_import_stage USING gist (geom)")
            cursor.execute("ANALYZE zoning_import_stage")
            # Overlaps with units already stored that this import does not replace.
            cursor.execute(
                """SELECT s.idx, s.code, u.code, a FROM (
                       SELECT s.idx, s.code, u.code ucode, ST_Area(ST_Intersection(s.geom, u.geom)::geography) a
                         FROM zoning_import_stage s JOIN zoning_controlunit u ON ST_Intersects(s.geom, u.geom)
                        WHERE NOT EXISTS (SELECT 1 FROM zoning_import_stage x WHERE x.code = u.code)
                   ) s JOIN zoning_controlunit u ON u.code = s.ucode WHERE a > %s ORDER BY s.idx""",
                [OVERLAP_TOLERANCE_M2],
            )
            for i, code, other, area in cursor.fetchall():
                err(
                    i,
                    code,
                    "geometry",
                    f"第 {i + 1} 个要素 {code} 与已有单元 {other} 重叠 {area:.0f} m²",
                    overlap_with=other,
                    area_m2=round(area, 1),
                )
            cursor.execute(
                "SELECT s.code, u.code IS NOT NULL FROM zoning_import_stage s "
                "LEFT JOIN zoning_controlunit u ON u.code = s.code ORDER BY s.idx"
            )
            for code, exists in cursor.fetchall():
                (result.updated if exists else result.created).append(code)
            errors.sort(key=lambda e: e["feature"])
            result.errors = errors
            if dry_run or errors:
                cursor.execute("DROP TABLE zoning_import_stage")
                if errors and not dry_run:
                    first = errors[0]
                    raise InvalidInput(
                        f"导入未执行：{len(errors)} 处错误，首个：{first['message']}",
                        field=first["field"],
                        extra={"errors": errors[:500], "error_count": len(errors), "features": n},
                    )
                return result
            _commit_stage(cursor, reason=reason, actor=actor)
            cursor.execute("DROP TABLE zoning_import_stage")
    return result


def _commit_stage(cursor, *, reason: str, actor) -> None:
    """Write the staged units: update existing ones, insert new ones, one version each."""
    now = timezone.now()
    author_id = actor.pk if actor and actor.is_authenticated else None
    author_name = actor.display_name if actor and actor.is_authenticated else "系统"
    cursor.execute(
        "SELECT code FROM zoning_controlunit WHERE code IN (SELECT code FROM zoning_import_stage) FOR UPDATE"
    )
    # Next version per code (deleted units keep their numbering).
    cursor.execute(
        """CREATE TEMP TABLE zoning_import_ver ON COMMIT DROP AS
           SELECT s.code, COALESCE(MAX(v.version), 0) + 1 AS version
             FROM zoning_import_stage s LEFT JOIN zoning_zoningversion v ON v.code = s.code AND v.layer = 'control_unit'
            GROUP BY s.code"""
    )
    cursor.execute(
        """UPDATE zoning_controlunit u SET name = s.name, category = s.category, district_id = s.district_id,
                  access_list = s.access_list, geom = s.geom, version = n.version, updated_at = %s, updated_by_id = %s,
                  synthetic = false
             FROM zoning_import_stage s JOIN zoning_import_ver n ON n.code = s.code WHERE u.code = s.code""",
        [now, author_id],
    )
    cursor.execute(
        """INSERT INTO zoning_controlunit (code, name, category, district_id, access_list, geom, version, synthetic,
                                          updated_at, updated_by_id)
           SELECT s.code, s.name, s.category, s.district_id, s.access_list, s.geom, n.version, false, %s, %s
             FROM zoning_import_stage s JOIN zoning_import_ver n ON n.code = s.code
            WHERE NOT EXISTS (SELECT 1 FROM zoning_controlunit u WHERE u.code = s.code)""",
        [now, author_id],
    )
    cursor.execute(
        "UPDATE zoning_zoningversion SET valid_to = %s WHERE layer = 'control_unit' AND valid_to IS NULL "
        "AND code IN (SELECT code FROM zoning_import_stage)",
        [now],
    )
    cursor.execute(
        """INSERT INTO zoning_zoningversion (layer, code, version, action, reason, author_id, author_name, created_at,
                                            valid_from, valid_to, name, category, geom, attributes)
           SELECT 'control_unit', s.code, n.version, 'import', %s, %s, %s, %s, %s, NULL, s.name, s.category, s.geom,
                  jsonb_build_object('name', s.name, 'category', s.category, 'district_code', a.code,
                                     'access_list', s.access_list, 'synthetic', false)
             FROM zoning_import_stage s JOIN zoning_import_ver n ON n.code = s.code
             LEFT JOIN gridgov_adminarea a ON a.id = s.district_id""",
        [reason, author_id, author_name, now, now],
    )
    cursor.execute("DROP TABLE zoning_import_ver")


# --- export ----------------------------------------------------------------------------------

EXPORT_FORMATS = {
    "gpkg": ("GPKG", "gpkg", "application/geopackage+sqlite3"),
    "geojson": ("GeoJSON", "geojson", "application/geo+json"),
    "shp": ("ESRI Shapefile", "shp", "application/zip"),
}


def units_export(*, fmt: str, crs: str, queryset=None) -> tuple[bytes, str, str]:
    """Return (bytes, filename, content type) of the control units in the format and CRS asked."""
    import geopandas as gpd

    from .models import ControlUnit

    if fmt not in EXPORT_FORMATS:
        raise InvalidInput("'format' 应为 gpkg、shp 或 geojson", field="format")
    if str(crs) not in ("4490", "4326"):
        raise InvalidInput("'crs' 应为 4490 或 4326", field="crs")
    qs = queryset if queryset is not None else ControlUnit.objects.select_related("district").order_by("code")
    rows, shapes = [], []
    for u in qs:
        by_dim: dict[str, list[str]] = {}
        for item in u.access_list:
            by_dim.setdefault(item["dimension"], []).append(item["text"])
        row = {
            "HJZHGKDYBM": u.code,
            "HJZHGKDYMC": u.name,
            "ZHGKDYFL": str(Category(u.category).label),
            "XZQDM": u.district.code if u.district_id else "",
            "BBH": u.version,
            "HCSJ": "是" if u.synthetic else "否",
        }
        for fname, dim in DIMENSION_FIELDS.items():
            row[fname] = "\n".join(by_dim.get(dim.value, []))
        rows.append(row)
        shapes.append(shapely.from_wkb(bytes(u.geom.wkb)))
    gdf = gpd.GeoDataFrame(rows, geometry=shapes, crs="EPSG:4326")
    if str(crs) == "4490":
        gdf = gdf.to_crs("EPSG:4490")
    driver, ext, ctype = EXPORT_FORMATS[fmt]
    stamp = timezone.localtime().strftime("%Y%m%d")
    base = f"control_units_{stamp}_epsg{crs}"
    with tempfile.TemporaryDirectory(prefix="zoning-export-") as tmp:
        out = Path(tmp) / f"{base}.{ext}"
        kwargs = {"encoding": "UTF-8"} if fmt == "shp" else {}
        if fmt == "gpkg":
            kwargs["layer"] = "control_units"
        pyogrio.write_dataframe(gdf, out, driver=driver, **kwargs)
        if fmt != "shp":
            return out.read_bytes(), out.name, ctype
        zpath = Path(tmp) / f"{base}.zip"
        with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED) as z:
            for part in sorted(Path(tmp).glob(f"{base}.*")):
                if part.suffix != ".zip":
                    z.write(part, part.name)
        return zpath.read_bytes(), zpath.name, ctype
