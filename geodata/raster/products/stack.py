"""Today's input: one GeoTIFF holding every band of a sensor profile (``constants.SENSORS``),
e.g. GF-1/GF-2 PMS (B, G, R, NIR), drone orthomosaics (R, G, B), or a hand-made Sentinel-2 /
Landsat stack with its SCL / QA_PIXEL as the last band."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from ..constants import SENSORS, sensor_profile
from ..errors import BandCountError, CorruptRasterError, SensorMismatchError
from .base import BandFile, DateSource, open_band, sniff_driver

_DATE_IN_NAME = re.compile(r"(?<!\d)(20\d{2})[-_]?([01]\d)[-_]?([0-3]\d)(?!\d)")
MASK_KIND = {"scl": "scl", "qa": "qa_pixel"}


def stack_date(path: str, tags: dict) -> dt.date | None:
    """The ACQUISITION_DATE / TIFFTAG_DATETIME tag, else a YYYYMMDD / YYYY-MM-DD in the name."""
    for key in ("ACQUISITION_DATE", "TIFFTAG_DATETIME"):
        value = (tags.get(key) or "").strip()
        if value:
            try:
                return dt.date.fromisoformat(value[:10].replace(":", "-"))
            except ValueError:
                pass
    m = _DATE_IN_NAME.search(Path(path).name)
    if m:
        try:
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            pass
    return None


def read_stack(path: str | Path, *, sensor: str | None = None, acquired: dt.date | None = None) -> DateSource:
    product = str(path)
    driver = sniff_driver(product)
    probe = BandFile(product, driver=driver)
    with open_band(probe) as ds:
        tags, count = ds.tags(), ds.count
    sensor = sensor or tags.get("GRIDGOV_SENSOR") or None
    if not sensor:
        raise SensorMismatchError(product, "sensor_required", known=", ".join(SENSORS))
    day = acquired or stack_date(product, tags)
    prof = sensor_profile(sensor, acquired=day)
    if count != prof.band_count:
        raise BandCountError(product, "band_count", sensor=prof.name, expected=prof.band_count, count=count)
    bands = {
        r: BandFile(
            product, index=prof.bands[r], scale=prof.scale, offset=prof.offset, nodata=prof.nodata, driver=driver
        )
        for r in prof.reflectance_roles
    }
    mask = BandFile(product, index=prof.bands[prof.mask_band], nodata=None, driver=driver) if prof.mask_band else None
    if driver not in ("GTiff",):
        raise CorruptRasterError(product, "stack_not_geotiff", driver=driver)
    return DateSource(
        path=product,
        kind="stack",
        sensor=prof.name,
        acquired=day,
        bands=bands,
        mask=mask,
        mask_kind=MASK_KIND.get(prof.mask_band or ""),
        synthetic=tags.get("GRIDGOV_SYNTHETIC") == "1",
    )
