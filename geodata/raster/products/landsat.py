"""Landsat 8/9 Collection-2 Level-2 folders as USGS delivers them (the .tar unpacked)::

    LC09_L2SP_119039_20230815_20230817_02_T1/
      LC09_L2SP_119039_20230815_20230817_02_T1_MTL.txt
      LC09_L2SP_119039_20230815_20230817_02_T1_SR_B2.TIF … _SR_B7.TIF
      LC09_L2SP_119039_20230815_20230817_02_T1_QA_PIXEL.TIF

The ``MTL`` file (ODL text) gives the file names (``PRODUCT_CONTENTS``), the surface
reflectance scale and offset per band (``LEVEL2_SURFACE_REFLECTANCE_PARAMETERS``:
``REFLECTANCE_MULT_BAND_n`` / ``REFLECTANCE_ADD_BAND_n``, 2.75e-5 and −0.2 for C2), the date,
the spacecraft and the sun (``SUN_AZIMUTH``, ``SUN_ELEVATION``). Without a file list the
``*_SR_B<n>.TIF`` names are used. OLI bands: blue 2, green 3, red 4, NIR 5, SWIR-1 6.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from ..errors import CorruptRasterError, SensorMismatchError
from .base import (
    BandFile,
    DateSource,
    MissingBandError,
    floats,
    parse_date,
    resolve_inside,
    sniff_driver,
    zenith_from_elevation,
)

OLI_BANDS = {"blue": 2, "green": 3, "red": 4, "nir": 5, "swir1": 6}
MAX_MTL_BYTES = 2 * 1024 * 1024
_LINE = re.compile(r'^\s*([A-Z0-9_]+)\s*=\s*"?(.*?)"?\s*$')


def mtl_file(folder: Path) -> Path | None:
    found = sorted(folder.glob("*_MTL.txt")) + sorted(folder.glob("*_MTL.TXT"))
    return found[0] if found else None


def is_landsat(path: Path) -> bool:
    return path.is_dir() and mtl_file(path) is not None


def parse_mtl(text: str) -> dict[str, str]:
    """Flat ``KEY -> value`` of an MTL file (keys are unique across its groups)."""
    out = {}
    for line in text.splitlines():
        m = _LINE.match(line)
        if m and m[1] not in ("GROUP", "END_GROUP"):
            out.setdefault(m[1], m[2])
    return out


def read_landsat(path: str | Path, *, acquired: dt.date | None = None) -> DateSource:
    folder = Path(path)
    product = str(folder)
    mtl_path = mtl_file(folder)
    if mtl_path is None:
        raise MissingBandError(product, "landsat_no_mtl")
    if mtl_path.stat().st_size > MAX_MTL_BYTES:
        raise CorruptRasterError(mtl_path, "metadata_too_large", member=mtl_path.name)
    mtl = parse_mtl(mtl_path.read_text(encoding="utf-8", errors="replace"))
    craft = mtl.get("SPACECRAFT_ID", "")
    if craft not in ("LANDSAT_8", "LANDSAT_9"):
        raise SensorMismatchError(product, "landsat_spacecraft", craft=craft or "unknown")
    level = mtl.get("PROCESSING_LEVEL", "")
    if level and not level.startswith("L2"):
        raise SensorMismatchError(product, "landsat_level", level=str(level))

    def locate(key: str, pattern: str) -> Path | None:
        name = mtl.get(key)
        if name:
            p = resolve_inside(folder, name, product)
            return p if p.is_file() else None
        found = sorted(folder.glob(pattern))
        return found[0] if found else None

    bands = {}
    for role, n in OLI_BANDS.items():
        p = locate(f"FILE_NAME_BAND_{n}", f"*_SR_B{n}.TIF")
        if p is None:
            raise MissingBandError(product, "landsat_band_missing", band=n, role=role)
        scale = floats(mtl.get(f"REFLECTANCE_MULT_BAND_{n}"))
        offset = floats(mtl.get(f"REFLECTANCE_ADD_BAND_{n}"))
        bands[role] = BandFile(
            str(p),
            scale=2.75e-5 if scale is None else scale,
            offset=-0.2 if offset is None else offset,
            nodata=0,
            driver=sniff_driver(str(p)),
        )
    qa = locate("FILE_NAME_QUALITY_L1_PIXEL", "*_QA_PIXEL.TIF")
    mask = BandFile(str(qa), nodata=None, driver=sniff_driver(str(qa))) if qa else None
    return DateSource(
        path=product,
        kind="landsat_c2",
        sensor="landsat89",
        acquired=acquired or parse_date(mtl.get("DATE_ACQUIRED")),
        bands=bands,
        mask=mask,
        mask_kind="qa_pixel" if mask else None,
        sun_zenith=zenith_from_elevation(floats(mtl.get("SUN_ELEVATION"))),
        sun_azimuth=floats(mtl.get("SUN_AZIMUTH")),
        notes=() if mask else ("no QA_PIXEL file: clouds by the brightness tests",),
    )
