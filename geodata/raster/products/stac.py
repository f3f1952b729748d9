"""A STAC item (JSON, read with pystac) whose assets are local per-band COGs / GeoTIFFs.

Roles come from each asset's ``eo:bands`` common name, else its key (Earth Search v1:
``blue green red nir swir16 scl``; v0 and others: ``B02 … SCL``; Landsat C2 on Planetary
Computer: ``blue green red nir08 swir16 qa_pixel``). Scale and offset come from the asset's
``raster:bands`` when present, else from the sensor (Sentinel-2: 1/10000 and the BOA offset by
``s2:processing_baseline`` or the date, unless ``earthsearch:boa_offset_applied``; Landsat C2
L2: 2.75e-5 and −0.2). The date is the item's ``datetime``, the sun from ``view:sun_*`` or
``s2:mean_solar_*``. Every href must be a local path inside the item's folder: hrefs to
``http://…``, ``/vsi…``, ``/etc/passwd`` or ``../../`` are refused (issue 12.1).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from urllib.parse import unquote, urlparse

import pystac

from ..constants import SENTINEL2_OFFSET_FROM
from ..errors import CorruptRasterError, SensorMismatchError
from .base import (
    BandFile,
    DateSource,
    MissingBandError,
    UnsafePathError,
    check_name,
    floats,
    resolve_inside,
    sniff_driver,
)

MAX_ITEM_BYTES = 5 * 1024 * 1024
#: STAC common names / asset keys -> our roles; first match wins per role.
ROLE_KEYS = {
    "blue": ("blue", "B02", "B2", "SR_B2"),
    "green": ("green", "B03", "B3", "SR_B3"),
    "red": ("red", "B04", "B4", "SR_B4"),
    "nir": ("nir", "B08", "nir08", "B5", "SR_B5"),
    "swir1": ("swir16", "B11", "B6", "SR_B6"),
}
MASK_KEYS = {"scl": "scl", "SCL": "scl", "qa_pixel": "qa_pixel", "QA_PIXEL": "qa_pixel"}
DEFAULTS = {"sentinel2": (1e-4, 0.0), "landsat89": (2.75e-5, -0.2)}


def is_stac(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() == ".json"


def looks_like_stac(path: Path) -> bool:
    """A .json file that is a STAC item (other JSON in a folder is not a scene)."""
    if not is_stac(path) or path.stat().st_size > MAX_ITEM_BYTES:
        return False
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, OSError):
        return False
    return isinstance(data, dict) and data.get("type") == "Feature" and "stac_version" in data


def _sensor(props: dict, product: str) -> str:
    text = f"{props.get('platform', '')} {props.get('constellation', '')}".lower()
    if "sentinel-2" in text or "sentinel2" in text:
        return "sentinel2"
    if "landsat-8" in text or "landsat-9" in text or "landsat_8" in text or "landsat_9" in text:
        return "landsat89"
    raise SensorMismatchError(product, "stac_platform", platform=text.strip())


def _href_path(href: str, base: Path, product: str) -> Path:
    if href.startswith("file://"):
        href = unquote(urlparse(href).path)
    check_name(href, product, allow_absolute=True)
    if href.startswith("/"):  # an absolute local path is fine only inside the item's folder
        p = Path(href).resolve()
        if not p.is_relative_to(base.resolve()):
            raise UnsafePathError(product, "name_outside", name=href)
        href = str(p.relative_to(base.resolve()))
    return resolve_inside(base, href, product)


def read_stac(path: str | Path, *, acquired: dt.date | None = None) -> DateSource:
    p = Path(path)
    product = str(p)
    if p.stat().st_size > MAX_ITEM_BYTES:
        raise CorruptRasterError(product, "metadata_too_large", member=Path(product).name)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
        item = pystac.Item.from_dict(data, preserve_dict=True, migrate=False)
    except (ValueError, KeyError, TypeError, pystac.STACError, pystac.errors.STACTypeError) as exc:
        raise CorruptRasterError(product, "not_stac", detail=str(exc)[:200]) from exc
    props = item.properties
    sensor = _sensor(props, product)
    day = acquired or (item.datetime or item.common_metadata.start_datetime or dt.datetime.min).date()
    day = None if day == dt.date.min else day
    scale0, offset0 = DEFAULTS[sensor]
    notes = []
    if sensor == "sentinel2" and not props.get("earthsearch:boa_offset_applied", False):
        baseline = str(props.get("s2:processing_baseline") or "")
        if (baseline and baseline >= "04.00") or (not baseline and day is not None and day >= SENTINEL2_OFFSET_FROM):
            offset0 = -0.1
    assets = item.assets
    base = p.parent

    def band_file(key: str, *, reflectance: bool) -> BandFile:
        asset = assets[key]
        if not asset.href:
            raise MissingBandError(product, "stac_asset_no_href", asset=key)
        local = _href_path(asset.href, base, product)
        if not local.is_file():
            raise MissingBandError(product, "stac_asset_missing", asset=key, href=asset.href)
        rb = (asset.extra_fields.get("raster:bands") or [{}])[0]
        nodata = floats(rb.get("nodata")) if rb.get("nodata") is not None else 0.0
        if not reflectance:
            return BandFile(str(local), nodata=nodata, driver=sniff_driver(str(local)))
        scale = floats(rb.get("scale")) if rb.get("scale") is not None else scale0
        offset = floats(rb.get("offset")) if rb.get("offset") is not None else offset0
        return BandFile(str(local), scale=scale, offset=offset, nodata=nodata, driver=sniff_driver(str(local)))

    def common(key: str) -> str | None:
        eo = assets[key].extra_fields.get("eo:bands") or []
        return eo[0].get("common_name") if eo and isinstance(eo[0], dict) else None

    def find(want: str) -> str | None:
        return next((k for k in assets if k == want or common(k) == want), None)

    bands = {}
    for role, keys in ROLE_KEYS.items():
        for want in keys:
            if sensor == "sentinel2" and want == "nir08":  # B8A, not Sentinel-2's 10 m NIR
                continue
            key = find(want)
            if key is not None:
                bands[role] = band_file(key, reflectance=True)
                break
    missing = [r for r in ROLE_KEYS if r not in bands]
    if missing:
        raise MissingBandError(product, "stac_missing_roles", roles=", ".join(missing))
    mask_key = next((k for k in assets if k in MASK_KEYS), None)
    mask = band_file(mask_key, reflectance=False) if mask_key else None
    if mask is None:
        notes.append("no SCL / QA_PIXEL asset: clouds by the brightness tests")
    elevation = floats(props.get("view:sun_elevation"))
    zenith = floats(props.get("s2:mean_solar_zenith")) or (90.0 - elevation if elevation is not None else None)
    azimuth = floats(props.get("view:sun_azimuth")) or floats(props.get("s2:mean_solar_azimuth"))
    return DateSource(
        path=product,
        kind="stac",
        sensor=sensor,
        acquired=day,
        bands=bands,
        mask=mask,
        mask_kind=MASK_KEYS[mask_key] if mask_key else None,
        sun_zenith=zenith,
        sun_azimuth=azimuth,
        processing_baseline=props.get("s2:processing_baseline"),
        notes=tuple(notes),
    )
