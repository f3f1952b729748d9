"""Import and export of control units: zipped Shapefile, GeoPackage, GeoJSON (read with pyogrio).

Import is set-based so that 10,000 units load in well under a second: the file is read once
with pyogrio, every feature is checked on whole columns (code, name, category, polygon type,
validity, inside the city, no overlap inside the file) with lists, numpy and shapely, one query
reads what the database knows about the file's codes (units it replaces, their versions, the
stored units it could overlap), the features are copied into a temporary table (binary COPY),
checked against those stored neighbours if there are any, and written with INSERT … SELECT
(units, then one version each). A dry run stops before writing and returns the per-feature
errors; a commit with any error writes nothing.
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
import psycopg
import pyogrio
import shapely
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from psycopg.adapt import Dumper
from psycopg.pq import Format
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
    geoms: np.ndarray  # 2D shapely geometries in WGS84 (storage SRID)
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
    # CGCS2000 → WGS84 is a no-op in PROJ (`proj=noop`: the datums agree to centimetres), so
    # geographic CGCS2000 files skip the coordinate pass (and building the transformer, which
    # costs tens of milliseconds the first time).
    transformer = _transformer(crs.to_wkt()) if epsg not in (4326, 4490) and len(geoms) else None
    if transformer is not None and not _is_noop(transformer):

        def project(xy: np.ndarray) -> np.ndarray:
            x, y = transformer.transform(xy[:, 0], xy[:, 1])
            return np.column_stack([x, y])

        geoms = shapely.transform(geoms, project)
    if gcj02 and len(geoms):

        def ungcj(xy: np.ndarray) -> np.ndarray:
            x, y = coords.gcj02_to_wgs84(xy[:, 0], xy[:, 1])
            return np.column_stack([x, y])

        geoms = shapely.transform(geoms, ungcj)
    # Heights (PolygonZ deliveries) are dropped, as the coordinate passes above drop them: zones
    # are stored in 2D. Only files that skipped both passes can still have them.
    if len(geoms) and shapely.has_z(geoms).any():
        geoms = shapely.force_2d(geoms)
    return Source(crs=label, geoms=geoms, fields=fields)


def _is_noop(transformer: Transformer) -> bool:
    return transformer.definition.split(" ", 1)[0] == "proj=noop"


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


def _texts(values: np.ndarray) -> list[str]:
    """`_text` of every value of a column; strings (the usual case) take the short way."""
    if values.dtype == object:
        return [v.strip() if type(v) is str else _text(v) for v in values]
    return [_text(v) for v in values.tolist()]


def _access_items(dims: list[str], texts: tuple[str, ...]) -> list[dict]:
    """Access-list items of one feature: one item per non-empty line of each dimension field."""
    items = []
    for dim, text in zip(dims, texts, strict=True):
        lines = re.split(r"[\r\n]+", text) if ("\n" in text or "\r" in text) else (text,)
        for line in lines:
            line = line.strip()
            if line:
                items.append({"dimension": dim, "text": line[:4000]})
    return items


def _interior_pairs(geoms: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (a < b) of features among geoms[idx] whose interiors meet in 2D (the overlap candidates)."""
    if len(idx) < 2:
        return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.intp)
    tree = shapely.STRtree(geoms[idx])
    left, right = tree.query(geoms[idx])  # envelopes only: the exact test follows
    keep = left < right
    left, right = left[keep], right[keep]
    # Interiors can only meet where the envelopes share an area: pairs whose envelopes merely
    # touch (neighbours along a north-south or east-west line, as in a grid) are settled here
    # without the exact relate, which costs a few microseconds a pair.
    bounds = shapely.bounds(geoms[idx])
    width = np.minimum(bounds[left, 2], bounds[right, 2]) - np.maximum(bounds[left, 0], bounds[right, 0])
    height = np.minimum(bounds[left, 3], bounds[right, 3]) - np.maximum(bounds[left, 1], bounds[right, 1])
    keep = (width > 0) & (height > 0)
    left, right = idx[left[keep]], idx[right[keep]]
    if len(left):
        inter = shapely.relate_pattern(geoms[left], geoms[right], "2********")
        left, right = left[inter], right[inter]
    return left, right


# WKB header of a little-endian 2D MultiPolygon (type 6) holding one polygon.
_MULTI_OF_ONE = b"\x01" + (6).to_bytes(4, "little") + (1).to_bytes(4, "little")

_JSONB_OID = psycopg.adapters.types["jsonb"].oid


class _WireBytes(Dumper):
    """Send bytes that already are a type's binary wire format (for COPY … FORMAT BINARY)."""

    format = Format.BINARY

    def dump(self, obj: bytes) -> bytes:
        return obj


@lru_cache(maxsize=8)
def _wire_dumper(oid: int) -> type[Dumper]:
    return type(f"_WireBytes{oid}", (_WireBytes,), {"oid": oid})


STAGE_COLUMNS = "idx, code, name, category, district_id, district_code, access_list, version, existing, geom"


def units_import_path(*, path: Path, reason: str, dry_run: bool, actor, gcj02: bool = False) -> ImportResult:
    """Check every feature of a file and, unless a dry run or an error, write units and versions.

    Attribute and geometry checks run on whole columns (lists, numpy, shapely); only the check
    against the units already stored needs the database, on a staging table filled by COPY.
    """
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

    # Attribute checks, one pass per check; the stable sort by feature at the end keeps each
    # feature's errors in this order (code, category, name, geometry).
    codes, names = _texts(codes_f), _texts(names_f)
    code_ok = [_CODE_RE.match(c) is not None for c in codes]
    counties = {city_code, *districts}
    seen: dict[str, int] = {}
    has_duplicates = len(set(codes)) < n
    for i in range(n):
        code = codes[i]
        if not code_ok[i]:
            err(i, code, "HJZHGKDYBM", f"第 {i + 1} 个要素：单元编码 {code!r} 格式错误（ZH+6 位区县+类别码+4 位序号）")
            continue
        if has_duplicates:
            if code in seen:
                err(i, code, "HJZHGKDYBM", f"第 {i + 1} 个要素：编码 {code} 与第 {seen[code] + 1} 个要素重复")
            seen.setdefault(code, i)
        if code[2:8] not in counties:
            err(i, code, "HJZHGKDYBM", f"第 {i + 1} 个要素 {code}：区县代码 {code[2:8]} 不是本市区县")
    digit_category = {digit: str(cat.value) for digit, cat in DIGIT_CATEGORY.items()}
    cats = [digit_category[c[8]] if ok else "general" for c, ok in zip(codes, code_ok, strict=True)]
    if cats_f is not None:
        given_texts = _texts(cats_f)
        given_of = {t: _category(t) for t in set(given_texts) if t}
        for i, text in enumerate(given_texts):
            if not text:
                continue
            given = given_of[text]
            if given is None:
                err(i, codes[i], "ZHGKDYFL", f"第 {i + 1} 个要素 {codes[i]}：无法识别的管控类别 {text!r}")
            elif code_ok[i] and given != cats[i]:
                err(i, codes[i], "ZHGKDYFL", f"第 {i + 1} 个要素 {codes[i]}：管控类别 {text} 与编码类别码不符")
    for i in (i for i, name in enumerate(names) if not name):
        err(i, codes[i], "HJZHGKDYMC", f"第 {i + 1} 个要素 {codes[i]}：缺少单元名称")
    district_codes = [c[2:8] if c[2:8] in districts else None for c in codes]
    # Access lists in jsonb's binary wire format (version byte 1, then the JSON text), ready for
    # the COPY below; deliveries repeat the same texts across many units, so each is built once.
    dims = [dim.value for dim, values in dim_fields.items() if values is not None]
    columns = [_texts(values) for values in dim_fields.values() if values is not None]
    access_jsonb: list[bytes] = []
    known: dict[tuple, bytes] = {}
    per_feature = zip(*columns, strict=True) if columns else [()] * n
    for texts in per_feature:
        data = known.get(texts)
        if data is None:
            data = known[texts] = b"\x01" + json.dumps(_access_items(dims, texts), ensure_ascii=False).encode()
        access_jsonb.append(data)

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
    with connection.cursor() as cursor:
        # WKB straight to shapely, without a GEOS object in between.
        cursor.execute("SELECT ST_AsBinary(geom) FROM gridgov_adminarea WHERE code = %s LIMIT 1", [city_code])
        row = cursor.fetchone()
    if row is None:
        raise InvalidInput("未加载市域边界，无法校验 / city boundary not loaded", field="file")
    city_shape = shapely.from_wkb(bytes(row[0]))
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
    # Overlaps inside the file.
    idx = np.flatnonzero(ok)
    left, right = _interior_pairs(geoms, idx)
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
    # WKB, 2D, without SRID (the typed staging column gives it SRID 4326 and refuses anything but
    # a MultiPolygon). A Polygon becomes a one-part MultiPolygon by prefixing the multi header.
    staged = geoms[idx]
    wkbs = shapely.to_wkb(staged, output_dimension=2, byte_order=1)
    single = (shapely.get_type_id(staged) == 3).tolist()
    wkbs = [_MULTI_OF_ONE + w if s else w for w, s in zip(wkbs, single, strict=True)]
    # An empty envelope (nothing staged) matches no stored unit.
    extent = [float(v) for v in shapely.total_bounds(staged)] if len(idx) else [0.0, 0.0, 0.0, 0.0]
    staged_codes = [codes[i] for i in idx]

    with transaction.atomic():
        connection.ensure_connection()
        # A plain psycopg cursor on Django's connection (so inside this transaction): server-side
        # binding, binary COPY, and dumpers registered on it alone.
        with psycopg.Cursor(connection.connection) as raw:
            # JIT compiling costs ~0.15 s per statement here and never pays back: the cost estimates
            # of the PostGIS functions cross jit_above_cost, the statements are not that long. Off for
            # this transaction (or savepoint) only, restored below.
            raw.execute("SELECT current_setting('jit'), set_config('jit', 'off', true), 'geometry'::regtype::oid")
            jit, _off, geometry_oid = raw.fetchone()
            # One round trip for what the stored data says about this file: the units it replaces
            # (locked before their versions are read), the last version of each code (deleted units
            # keep their numbering), and the stored units that it leaves in place but whose
            # envelopes meet the file's, the only ones it could overlap (usually none: a first
            # import, or a full re-import).
            # The codes go as one comma-separated string, split in SQL: a 10,000-element array
            # parameter costs more to adapt on the client (and to plan against) than the query.
            # Only well-formed codes (letters and digits) can be stored, so only they are looked up.
            lock = "" if dry_run else " ORDER BY u.code FOR UPDATE OF u"
            raw.execute(
                f"""WITH c AS MATERIALIZED (SELECT unnest(string_to_array(%(codes)s, ',')) AS code),
                    replaced AS (SELECT u.code FROM zoning_controlunit u JOIN c ON u.code = c.code{lock})
                    SELECT 'unit', code, NULL::bigint FROM replaced
                    UNION ALL
                    SELECT 'version', v.code, max(v.version) FROM zoning_zoningversion v JOIN c ON v.code = c.code
                     WHERE v.layer = 'control_unit' GROUP BY v.code
                    UNION ALL
                    SELECT 'neighbour', NULL, u.id FROM zoning_controlunit u
                     WHERE u.geom && ST_MakeEnvelope(%(x0)s, %(y0)s, %(x1)s, %(y1)s, 4326)
                       AND NOT EXISTS (SELECT 1 FROM c WHERE c.code = u.code)""",
                {
                    "codes": ",".join(codes[i] for i in idx.tolist() if code_ok[i]),
                    **dict(zip(("x0", "y0", "x1", "y1"), extent, strict=True)),
                },
            )
            existing: set[str] = set()
            last_version: dict[str, int] = {}
            neighbours: list[int] = []
            for kind, code, number in raw.fetchall():
                if kind == "unit":
                    existing.add(code)
                elif kind == "version":
                    last_version[code] = number
                else:
                    neighbours.append(number)
            raw.execute("DROP TABLE IF EXISTS zoning_import_stage")
            raw.execute(
                "CREATE TEMP TABLE zoning_import_stage (idx int, code text, name text, category text, district_id int, "
                "district_code text, access_list jsonb, version int, existing bool, "
                "geom geometry(MultiPolygon, 4326)) ON COMMIT DROP"
            )
            # COPY is the fastest way in; in binary, WKB and jsonb go as they are (no hex text for
            # the server to parse back), by dumpers known only to this cursor.
            raw.adapters.register_dumper(None, _wire_dumper(geometry_oid))
            raw.adapters.register_dumper(None, _wire_dumper(_JSONB_OID))
            with raw.copy(f"COPY zoning_import_stage ({STAGE_COLUMNS}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(
                    ["int4", "text", "text", "text", "int4", "text", _JSONB_OID, "int4", "bool", geometry_oid]
                )
                for j, i in enumerate(idx.tolist()):
                    code = codes[i]
                    dcode = district_codes[i]
                    copy.write_row(
                        (
                            i,
                            code,
                            names[i],
                            cats[i],
                            districts[dcode] if dcode else None,
                            dcode,
                            access_jsonb[i],
                            last_version.get(code, 0) + 1,
                            code in existing,
                            wkbs[j],
                        )
                    )
            # Overlaps with those neighbours: each probes the staged units through an index on the
            # stage (built only when needed; no ANALYZE, the plan is fixed by the id list).
            overlaps_stored = []
            if neighbours:
                raw.execute("CREATE INDEX ON zoning_import_stage USING gist (geom)")
                raw.execute(
                    """SELECT idx, code, other, a FROM (
                           SELECT s.idx, s.code, u.code other, ST_Area(ST_Intersection(s.geom, u.geom)::geography) a
                             FROM zoning_controlunit u JOIN zoning_import_stage s ON ST_Intersects(s.geom, u.geom)
                            WHERE u.id = ANY(%s) OFFSET 0
                       ) o WHERE a > %s ORDER BY idx, other""",
                    [neighbours, OVERLAP_TOLERANCE_M2],
                )
                overlaps_stored = raw.fetchall()
            for i, code, other, area in overlaps_stored:
                err(
                    i,
                    code,
                    "geometry",
                    f"第 {i + 1} 个要素 {code} 与已有单元 {other} 重叠 {area:.0f} m²",
                    overlap_with=other,
                    area_m2=round(area, 1),
                )
            for code in staged_codes:
                (result.updated if code in existing else result.created).append(code)
            errors.sort(key=lambda e: e["feature"])
            result.errors = errors
            if dry_run or errors:
                raw.execute("DROP TABLE zoning_import_stage")
                raw.execute("SELECT set_config('jit', %s, true)", [jit])
                if errors and not dry_run:
                    first = errors[0]
                    raise InvalidInput(
                        f"导入未执行：{len(errors)} 处错误，首个：{first['message']}",
                        field=first["field"],
                        extra={"errors": errors[:500], "error_count": len(errors), "features": n},
                    )
                return result
            _commit_stage(raw, reason=reason, actor=actor, updates=bool(existing), reopens=bool(last_version))
            raw.execute("DROP TABLE zoning_import_stage")
            raw.execute("SELECT set_config('jit', %s, true)", [jit])
    return result


def _commit_stage(cursor, *, reason: str, actor, updates: bool, reopens: bool) -> None:
    """Write the staged units: update existing ones, insert new ones, one version each.

    The staging table already carries each unit's next version and whether it exists, so each
    write is a plain scan of it; `updates`/`reopens` skip the statements that would touch nothing.
    """
    now = timezone.now()
    author_id = actor.pk if actor and actor.is_authenticated else None
    author_name = actor.display_name if actor and actor.is_authenticated else "系统"
    if updates:
        cursor.execute(
            """UPDATE zoning_controlunit u SET name = s.name, category = s.category, district_id = s.district_id,
                      access_list = s.access_list, geom = s.geom, version = s.version, updated_at = %s,
                      updated_by_id = %s, synthetic = false
                 FROM zoning_import_stage s WHERE s.existing AND u.code = s.code""",
            [now, author_id],
        )
    cursor.execute(
        """INSERT INTO zoning_controlunit (code, name, category, district_id, access_list, geom, version, synthetic,
                                          updated_at, updated_by_id)
           SELECT code, name, category, district_id, access_list, geom, version, false, %s, %s
             FROM zoning_import_stage WHERE NOT existing""",
        [now, author_id],
    )
    if reopens:  # close the open version of every code that has one
        cursor.execute(
            "UPDATE zoning_zoningversion SET valid_to = %s WHERE layer = 'control_unit' AND valid_to IS NULL "
            "AND code IN (SELECT code FROM zoning_import_stage WHERE version > 1)",
            [now],
        )
    cursor.execute(
        """INSERT INTO zoning_zoningversion (layer, code, version, action, reason, author_id, author_name, created_at,
                                            valid_from, valid_to, name, category, geom, attributes)
           SELECT 'control_unit', code, version, 'import', %s, %s, %s, %s, %s, NULL, name, category, geom,
                  jsonb_build_object('name', name, 'category', category, 'district_code', district_code,
                                     'access_list', access_list, 'synthetic', false)
             FROM zoning_import_stage""",
        [reason, author_id, author_name, now, now],
    )


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
