"""Reading an uploaded vector file, in the child process of `gridgov.untrusted.run_isolated`.

The file is opened only as what its name declares (`.geojson`/`.json` GeoJSON, `.gpkg`
GeoPackage, `.zip` holding one of those or one Shapefile), only after its content has shown
that format's signature, and with every other GDAL driver deregistered:

- GeoJSON: UTF-8 JSON whose top-level `type` is a GeoJSON type, and whose `crs` members (the
  object's, each feature's and geometry's) name an EPSG or OGC code — never a link or URL,
  which GDAL would fetch;
- GeoPackage: the SQLite header with a GeoPackage application id, and no views and no virtual
  tables but the R-tree spatial index (nothing that runs SQL or opens another source on read);
- Shapefile: the .shp/.shx magic (9994, version 1000), a dBASE header, a .prj that is WKT and a
  .cpg that is an encoding name, neither naming a file system (`/vsi…`), a URL or a share.

A zip is unpacked here too (only the data file and its sidecars, under a size cap, refusing
paths that leave the folder, links, duplicates and encrypted members). The geometry is checked
here as well (zoning/import_geometry.py), or a site's polygons merged: GEOS work on untrusted
shapes stays in the child. Everything that refuses
a file raises `Refused(code, params)`; the web process turns the code into a message.

This module must import without Django (the child does not configure it): it returns plain data.
"""

from __future__ import annotations

import json
import re
import sqlite3
import struct
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath
from urllib.parse import quote

import numpy as np
import pyogrio.errors
import pyogrio.raw
import pyproj.exceptions
import shapely
from pyproj import CRS, Transformer

from gridgov import coords
from gridgov.untrusted import Refused, restrict_gdal_drivers

from .import_geometry import GeometryReport, check_geometries

GEOJSON, GPKG, SHAPEFILE = "GeoJSON", "GPKG", "ESRI Shapefile"
DRIVERS = (GEOJSON, GPKG, SHAPEFILE)
# Declared format of a name: its suffix. A zip holds one data file, declared the same way.
DRIVER_BY_SUFFIX = {".geojson": GEOJSON, ".json": GEOJSON, ".gpkg": GPKG, ".shp": SHAPEFILE}
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")

GEOJSON_TYPES = frozenset(
    {
        "FeatureCollection",
        "Feature",
        "Point",
        "MultiPoint",
        "LineString",
        "MultiLineString",
        "Polygon",
        "MultiPolygon",
        "GeometryCollection",
    }
)
_CRS_NAME = re.compile(r"^(urn:ogc:def:crs:(EPSG:[0-9.]*:[0-9]{4,5}|OGC:1\.3:CRS84)|EPSG:[0-9]{4,5})$", re.I)
GPKG_APPLICATION_IDS = (b"GPKG", b"GP10", b"GP11")
DBF_VERSIONS = frozenset({0x02, 0x03, 0x04, 0x05, 0x30, 0x31, 0x32, 0x43, 0x63, 0x83, 0x8B, 0xCB, 0xE5, 0xF5, 0xFB})
SHAPE_TYPES = frozenset({0, 1, 3, 5, 8, 11, 13, 15, 18, 21, 23, 25, 28, 31})
WKT_KEYWORDS = ("GEOGCS", "PROJCS", "GEOCCS", "COMPD_CS", "GEOGCRS", "PROJCRS", "GEODCRS", "BOUNDCRS", "COMPOUNDCRS")
_ENCODING_NAME = re.compile(r"^[A-Za-z0-9_.:-]{1,40}$")
# What may name something outside the file: GDAL's virtual file systems, URLs, UNC shares.
_REFERENCE = re.compile(r"/vsi[a-z0-9_]+/|[a-z][a-z0-9+.-]*://|\\\\", re.I)
TEXT_SIDECAR_BYTES = 64 * 1024
_EPSG_NAME = re.compile(r"^EPSG:([0-9]{4,6})$")

# Geographic CRSs on these ellipsoids are taken as WGS84/CGCS2000 (they agree to centimetres).
ELLIPSOIDS = ("WGS 84", "GRS 1980", "CGCS2000")


@dataclass(frozen=True)
class ReadLimits:
    vertices: int  # all features together
    extracted_bytes: int  # what a zip may unpack to
    zip_members: int


@dataclass
class UnitsData:
    """An import file read and its geometry checked: plain data for the web process."""

    crs: str  # what the file declared, e.g. "EPSG:4549"
    n: int  # features
    fields: dict[str, np.ndarray]  # attribute columns by field name
    geometry: GeometryReport


@dataclass
class SiteData:
    crs: str
    wkb: bytes  # the file's polygons merged, WGS84


def read_units(path: str, *, workdir: str, gcj02: bool, read_limits: ReadLimits, city_wkb: bytes) -> UnitsData:
    """Read an import file and check its geometry against the city (the boundary's WKB)."""
    label, geoms, fields = _read(path, workdir=workdir, gcj02=gcj02, limits=read_limits)
    return UnitsData(crs=label, n=len(geoms), fields=fields, geometry=check_geometries(geoms, city_wkb))


def read_site(path: str, *, workdir: str, gcj02: bool, read_limits: ReadLimits) -> SiteData:
    """Read a site file: its polygons, merged."""
    label, geoms, _fields = _read(path, workdir=workdir, gcj02=gcj02, limits=read_limits)
    if not len(geoms):
        raise Refused("no_features")
    if not set(shapely.get_type_id(geoms).tolist()) <= {3, 6}:
        raise Refused("site_not_polygon")
    return SiteData(crs=label, wkb=shapely.to_wkb(shapely.union_all(geoms)))


def _read(path: str, *, workdir: str, gcj02: bool, limits: ReadLimits) -> tuple[str, np.ndarray, dict]:
    """Open the file only as what it declares and read it: (declared CRS, WGS84 geometries, fields)."""
    source = Path(path)
    if source.suffix.lower() == ".zip":
        source = extract_zip(
            source, Path(workdir) / "unzipped", max_bytes=limits.extracted_bytes, max_members=limits.zip_members
        )
    driver = DRIVER_BY_SUFFIX.get(source.suffix.lower())
    if driver is None:
        raise Refused("file_type")
    {GEOJSON: check_geojson, GPKG: check_geopackage, SHAPEFILE: check_shapefile}[driver](source)
    restrict_gdal_drivers([driver])
    return _features(source, gcj02=gcj02, max_vertices=limits.vertices, workdir=workdir)


# --- signatures and references -----------------------------------------------------------------


def check_geojson(path: Path) -> None:
    try:
        doc = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        raise Refused("not_format", {"format": "GeoJSON"})
    if not isinstance(doc, dict) or doc.get("type") not in GEOJSON_TYPES:
        raise Refused("not_format", {"format": "GeoJSON"})
    objects = [doc]
    features = doc.get("features") if doc.get("type") == "FeatureCollection" else [doc]
    for feature in features if isinstance(features, list) else []:
        if isinstance(feature, dict):
            objects += [feature, feature.get("geometry")]
    for obj in objects:
        if isinstance(obj, dict) and "crs" in obj and not _plain_crs_member(obj["crs"]):
            raise Refused("crs_reference")


def _plain_crs_member(crs: object) -> bool:
    """A GeoJSON 2008 `crs` that names a code; "link"/"url" members make GDAL fetch the target."""
    if crs is None:
        return True
    if not isinstance(crs, dict) or not isinstance(crs.get("properties"), dict):
        return False
    kind, props = crs.get("type"), crs["properties"]
    if kind == "name":
        return isinstance(props.get("name"), str) and bool(_CRS_NAME.match(props["name"]))
    if kind == "EPSG":
        return type(props.get("code")) is int
    return False


def check_geopackage(path: Path) -> None:
    with path.open("rb") as handle:
        header = handle.read(100)
    if not header.startswith(b"SQLite format 3\x00") or header[68:72] not in GPKG_APPLICATION_IDS:
        raise Refused("not_format", {"format": "GeoPackage"})
    # Python's own SQLite, read-only and immutable (no journal files): what would GDAL run on read?
    try:
        with sqlite3.connect(f"file:{quote(str(path))}?mode=ro&immutable=1", uri=True) as db:
            objects = db.execute("SELECT type, sql FROM sqlite_master").fetchall()
    except sqlite3.DatabaseError:
        raise Refused("not_format", {"format": "GeoPackage"})
    for kind, sql in objects:
        text = (sql or "").upper()
        if kind == "view" or ("CREATE VIRTUAL TABLE" in text and "USING RTREE" not in text):
            raise Refused("gpkg_view")


def check_shapefile(shp: Path) -> None:
    parts = {p.suffix.lower(): p for p in shp.parent.iterdir() if p.stem == shp.stem}
    for ext in (".shx", ".dbf"):
        if ext not in parts:
            raise Refused("shp_incomplete", {"part": ext})
    for ext in (".shp", ".shx"):
        header = _head(parts[ext], 100)
        if (
            len(header) < 100
            or struct.unpack(">i", header[0:4])[0] != 9994
            or struct.unpack("<i", header[28:32])[0] != 1000
            or struct.unpack("<i", header[32:36])[0] not in SHAPE_TYPES
        ):
            raise Refused("not_format", {"format": "Shapefile"})
    dbf = _head(parts[".dbf"], 32)
    if len(dbf) < 32 or dbf[0] not in DBF_VERSIONS:
        raise Refused("not_format", {"format": "Shapefile"})
    if ".prj" not in parts:
        raise Refused("no_prj")
    prj = _sidecar_text(parts[".prj"])
    if _REFERENCE.search(prj) or not prj.lstrip().upper().startswith(WKT_KEYWORDS):
        raise Refused("bad_prj")
    if ".cpg" in parts:
        cpg = _sidecar_text(parts[".cpg"]).strip()
        if not _ENCODING_NAME.match(cpg):
            raise Refused("bad_cpg")


def _head(path: Path, size: int) -> bytes:
    with path.open("rb") as handle:
        return handle.read(size)


def _sidecar_text(path: Path) -> str:
    data = _head(path, TEXT_SIDECAR_BYTES + 1)
    if len(data) > TEXT_SIDECAR_BYTES:
        raise Refused("bad_sidecar", {"part": path.suffix.lower()})
    return data.decode("utf-8", errors="replace")


# --- zip ----------------------------------------------------------------------------------------


def extract_zip(path: Path, dest: Path, *, max_bytes: int, max_members: int) -> Path:
    """Unpack the one data file of a zip (and a Shapefile's sidecars) into `dest`; return its path."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise Refused("zip_corrupt")
    with archive:
        members = archive.infolist()
        if len(members) > max_members:
            raise Refused("zip_members", {"max": max_members})
        if sum(m.file_size for m in members) > max_bytes:
            raise Refused("zip_too_large", {"mb": max_bytes // (1024 * 1024)})
        seen: set[str] = set()
        for m in members:
            _check_member(m, seen)
        data = [m for m in members if not m.is_dir() and PurePosixPath(m.filename).suffix.lower() in DRIVER_BY_SUFFIX]
        if not data:
            raise Refused("zip_no_data")
        if len(data) > 1:
            raise Refused("zip_many_data", {"names": "、".join(PurePosixPath(m.filename).name for m in data[:5])})
        chosen = PurePosixPath(data[0].filename)
        wanted = {chosen.suffix.lower()}
        if chosen.suffix.lower() == ".shp":
            wanted = set(SHAPEFILE_PARTS)
        dest.mkdir(parents=True)
        left = max_bytes
        for m in members:
            name = PurePosixPath(m.filename)
            ext = name.suffix.lower()
            if m.is_dir() or name.parent != chosen.parent or name.stem != chosen.stem or ext not in wanted:
                continue
            # Flat, fixed names: nothing of the archive's naming reaches the file system.
            left -= _copy_member(archive, m, dest / f"data{ext}", left=left, max_bytes=max_bytes)
        return dest / f"data{chosen.suffix.lower()}"


def _check_member(m: zipfile.ZipInfo, seen: set[str]) -> None:
    name = m.filename.replace("\\", "/")
    pure = PurePosixPath(name)
    if (
        "\x00" in name
        or pure.is_absolute()
        or ".." in pure.parts
        or (m.external_attr >> 16) & 0o170000 == 0o120000  # a symbolic link
    ):
        raise Refused("zip_unsafe", {"name": m.filename[:80]})
    if m.flag_bits & 0x1:
        raise Refused("zip_encrypted")
    key = name.lower()
    if key in seen:
        raise Refused("zip_duplicate", {"name": m.filename[:80]})
    seen.add(key)


def _copy_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, target: Path, *, left: int, max_bytes: int) -> int:
    """Copy one member, counting what it really inflates to (not what its header says)."""
    written = 0
    try:
        with archive.open(member) as src, target.open("wb") as out:
            while chunk := src.read(1 << 20):
                written += len(chunk)
                if written > left:
                    raise Refused("zip_too_large", {"mb": max_bytes // (1024 * 1024)})
                out.write(chunk)
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError):
        raise Refused("zip_corrupt")
    return written


# --- reading ------------------------------------------------------------------------------------


def _features(path: Path, *, gcj02: bool, max_vertices: int, workdir: str) -> tuple[str, np.ndarray, dict]:
    try:
        meta, _fids, wkb, field_data = pyogrio.raw.read(path, encoding=None)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        # GDAL's text names the temporary path: keep only what follows it.
        raise Refused("unreadable", {"detail": str(exc).replace(str(path), "").replace(workdir, "")[:200]})
    geoms = shapely.from_wkb(np.asarray(wkb, dtype=object)) if len(wkb) else np.array([], dtype=object)
    vertices = int(shapely.get_num_coordinates(geoms).sum()) if len(geoms) else 0
    if vertices > max_vertices:
        raise Refused("too_many_vertices", {"limit": max_vertices})
    crs, label, epsg = _declared_crs(meta.get("crs"))
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
    return label, geoms, {name: field_data[i] for i, name in enumerate(meta["fields"])}


def _declared_crs(text: str | None) -> tuple[CRS | None, str, int | None]:
    """The file's CRS if GridGov takes it: WGS84, CGCS2000, or a projection on either datum.

    (None, label, code) for WGS84 and CGCS2000 named by code, which need no transformation.
    """
    if not text:
        raise Refused("no_crs")
    # GDAL names the code when it knows it; parsing and identifying a CRS costs 0.1 s per process.
    named = _EPSG_NAME.match(text)
    if named and int(named.group(1)) in (4326, 4490):
        return None, text, int(named.group(1))
    try:
        crs = CRS.from_user_input(text)
    except pyproj.exceptions.CRSError:
        raise Refused("bad_crs")
    epsg = int(named.group(1)) if named else crs.to_epsg(min_confidence=70)
    label = f"EPSG:{epsg}" if epsg else crs.name
    if epsg in (4326, 4490):
        return crs, label, epsg
    if crs.is_projected and crs.geodetic_crs and crs.geodetic_crs.to_epsg() in (4490, 4326):
        return crs, label, epsg
    if crs.is_geographic and crs.ellipsoid and crs.ellipsoid.name in ELLIPSOIDS:
        return crs, label, epsg
    raise Refused("crs_not_supported", {"label": label[:60]})


def _is_noop(transformer: Transformer) -> bool:
    return transformer.definition.split(" ", 1)[0] == "proj=noop"


@lru_cache(maxsize=16)
def _transformer(crs_wkt: str) -> Transformer:
    return Transformer.from_crs(CRS.from_wkt(crs_wkt), "EPSG:4326", always_xy=True)
