"""Export of the control units: GeoPackage, zipped Shapefile or GeoJSON, in CGCS2000 or WGS84.

Written with pyogrio's raw writer, field names as in delivered 三线一单 shapefiles so that a file
exported here imports back unchanged. CGCS2000 (EPSG:4490) and WGS84 agree to centimetres and
PROJ converts between them without moving a vertex, so only the declared CRS differs.
"""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pyogrio.raw
from django.db.models import QuerySet, TextChoices
from django.utils import timezone

from .models import Category, ControlUnit, Dimension

# Field names of delivered 三线一单 shapefiles: the four access-list dimensions.
DIMENSION_FIELDS = {
    "KJBJYS": Dimension.SPATIAL,
    "PWWPFGK": Dimension.POLLUTION,
    "HJFXFK": Dimension.RISK,
    "ZYKFXLYQ": Dimension.RESOURCE,
}


class ExportFormat(TextChoices):
    GPKG = "gpkg", "GeoPackage"
    SHP = "shp", "Shapefile (zip)"
    GEOJSON = "geojson", "GeoJSON"


class OutputCRS(TextChoices):
    CGCS2000 = "4490", "CGCS2000 (EPSG:4490)"
    WGS84 = "4326", "WGS84 (EPSG:4326)"


# format → (GDAL driver, file extension, content type)
DRIVERS = {
    ExportFormat.GPKG: ("GPKG", "gpkg", "application/geopackage+sqlite3"),
    ExportFormat.GEOJSON: ("GeoJSON", "geojson", "application/geo+json"),
    ExportFormat.SHP: ("ESRI Shapefile", "shp", "application/zip"),
}


def units_export(*, fmt: str, crs: str, queryset: QuerySet | None = None) -> tuple[bytes, str, str]:
    """Return (bytes, filename, content type) of the control units in the format and CRS asked."""
    fmt, crs = ExportFormat(fmt), OutputCRS(crs)
    units = queryset if queryset is not None else ControlUnit.objects.select_related("district").order_by("code")
    columns: dict[str, list] = {n: [] for n in ("HJZHGKDYBM", "HJZHGKDYMC", "ZHGKDYFL", "XZQDM", "BBH", "HCSJ")}
    columns.update({name: [] for name in DIMENSION_FIELDS})
    wkb = []
    for u in units:
        by_dim: dict[str, list[str]] = {}
        for item in u.access_list:
            by_dim.setdefault(item["dimension"], []).append(item["text"])
        columns["HJZHGKDYBM"].append(u.code)
        columns["HJZHGKDYMC"].append(u.name)
        columns["ZHGKDYFL"].append(str(Category(u.category).label))
        columns["XZQDM"].append(u.district.code if u.district_id else "")
        columns["BBH"].append(u.version)
        columns["HCSJ"].append("是" if u.synthetic else "否")
        for name, dim in DIMENSION_FIELDS.items():
            columns[name].append("\n".join(by_dim.get(dim.value, [])))
        wkb.append(bytes(u.geom.wkb))
    names = list(columns)
    data = [np.asarray(columns[n], dtype=np.int64 if n == "BBH" else object) for n in names]
    driver, ext, ctype = DRIVERS[fmt]
    base = f"control_units_{timezone.localtime():%Y%m%d}_epsg{crs.value}"
    options = {"encoding": "UTF-8"} if fmt == ExportFormat.SHP else {}
    if fmt == ExportFormat.GPKG:
        options["layer"] = "control_units"
    with tempfile.TemporaryDirectory(prefix="zoning-export-") as tmp:
        out = Path(tmp) / f"{base}.{ext}"
        pyogrio.raw.write(
            out,
            np.asarray(wkb, dtype=object),
            data,
            names,
            driver=driver,
            geometry_type="MultiPolygon",
            crs=f"EPSG:{crs.value}",
            **options,
        )
        if fmt != ExportFormat.SHP:
            return out.read_bytes(), out.name, ctype
        zpath = Path(tmp) / f"{base}.zip"
        with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED) as z:
            for part in sorted(Path(tmp).glob(f"{base}.*")):
                if part.suffix != ".zip":
                    z.write(part, part.name)
        return zpath.read_bytes(), zpath.name, ctype
