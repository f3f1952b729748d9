"""Sensor band profiles and fixed parameters of the change rules.

Band indices are 1-based (rasterio convention). Reflectance = DN * scale + offset.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field, replace

from .errors import SensorMismatchError

WGS84 = "EPSG:4326"

#: Landsat Collection-2 QA_PIXEL bits treated as invalid: 0 fill, 1 dilated cloud,
#: 2 cirrus, 3 cloud, 4 cloud shadow, 5 snow.
LANDSAT_QA_INVALID_BITS: tuple[int, ...] = (0, 1, 2, 3, 4, 5)

#: Products processed with baseline 04.00 (from this date on) carry BOA_ADD_OFFSET = -1000.
SENTINEL2_OFFSET_FROM = _dt.date(2022, 1, 25)

#: Change classes in the change-class raster (uint8).
CLASS_NONE = 0
CLASS_VEGETATION_LOSS = 1
CLASS_CONSTRUCTION = 2
CLASS_WATER_CHANGE = 3
CLASS_INVALID = 255  # not valid on both dates (nodata, cloud, shadow)

CHANGE_CLASSES: dict[int, str] = {
    CLASS_VEGETATION_LOSS: "vegetation_loss",
    CLASS_CONSTRUCTION: "construction",
    CLASS_WATER_CHANGE: "water_change",
}
CLASS_BY_NAME: dict[str, int] = {v: k for k, v in CHANGE_CLASSES.items()}

# Rule defaults (reflectance / index units).
NDVI_VEGETATED = 0.45  # "NDVI was high" before
VEG_LOSS_FLOOR = 0.10  # minimum NDVI drop
CONSTRUCTION_NDBI_FLOOR = 0.10  # minimum NDBI rise (SWIR sensors)
CONSTRUCTION_BRIGHT_FLOOR = 0.10  # minimum rise of mean visible reflectance (no SWIR)
CONSTRUCTION_NDVI_AFTER_MAX = 0.25  # "built" surfaces have low NDVI after
CONSTRUCTION_BRIGHT_AFTER = 0.12  # ... and (SWIR sensors) are brighter than bare soil in the visible
WATER_FLOOR = 0.20  # minimum |d MNDWI| / |d NDWI|
COLOUR_FLOOR = 0.06  # minimum colour change (chord of unit B-G-R vectors, ~radians) of bare land
COLOUR_MIN_BRIGHTNESS = 0.04  # ... on pixels at least this bright (visible mean) on both dates
WATER_SIGN_MARGIN = 0.05  # index must be clearly on each side of 0
CLOUD_BRIGHTNESS = 0.30  # mean visible reflectance above which a pixel may be cloud
CLOUD_WHITENESS = 0.25  # max |band - mean| / mean of visible bands for cloud
SHADOW_RATIO = 0.70  # all bands darker than this ratio vs the other date
SHADOW_MAX_BRIGHTNESS = 0.08  # ... and dark (mean of all bands) on the shadowed date
SHADOW_SPREAD = 1.6  # ... and darkening uniform (max ratio / min ratio below this)


@dataclass(frozen=True)
class SensorProfile:
    """How to read one sensor's product: bands by role, scaling, masks, indices."""

    name: str
    band_count: int
    bands: dict[str, int]
    scale: float
    offset: float = 0.0
    nodata: float | None = 0
    mask_band: str | None = None  # "scl" or "qa"
    indices: tuple[str, ...] = ()
    resolution_m: float | None = None
    notes: str = ""
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def has_swir(self) -> bool:
        return "swir1" in self.bands

    @property
    def has_nir(self) -> bool:
        return "nir" in self.bands

    @property
    def reflectance_roles(self) -> tuple[str, ...]:
        return tuple(r for r in ("blue", "green", "red", "nir", "swir1") if r in self.bands)

    def band(self, role: str) -> int:
        try:
            return self.bands[role]
        except KeyError:
            raise SensorMismatchError(None, "sensor_lacks_band", sensor=self.name, role=role) from None


SENSORS: dict[str, SensorProfile] = {
    # Stacked L2A product: B02, B03, B04, B08, B11 (resampled to 10 m) and SCL.
    "sentinel2": SensorProfile(
        name="sentinel2",
        band_count=6,
        bands={"blue": 1, "green": 2, "red": 3, "nir": 4, "swir1": 5, "scl": 6},
        scale=1e-4,
        offset=0.0,  # use sensor_profile("sentinel2", acquired=...) for the -1000 DN offset
        nodata=0,
        mask_band="scl",
        indices=("ndvi", "ndbi", "mndwi", "ndwi"),
        resolution_m=10.0,
        notes="L2A BOA reflectance x10000; products from 2022-01-25 carry a -1000 DN offset",
    ),
    # Collection-2 Level-2 SR: SR_B2..SR_B6 stacked, then QA_PIXEL.
    "landsat89": SensorProfile(
        name="landsat89",
        band_count=6,
        bands={"blue": 1, "green": 2, "red": 3, "nir": 4, "swir1": 5, "qa": 6},
        scale=2.75e-5,
        offset=-0.2,
        nodata=0,
        mask_band="qa",
        indices=("ndvi", "ndbi", "mndwi", "ndwi"),
        resolution_m=30.0,
        notes="Collection 2 L2 surface reflectance; QA_PIXEL bit mask",
    ),
    # Gaofen-2 PMS multispectral, surface reflectance x10000, 4 bands B, G, R, NIR.
    "gf2": SensorProfile(
        name="gf2",
        band_count=4,
        bands={"blue": 1, "green": 2, "red": 3, "nir": 4},
        scale=1e-4,
        nodata=0,
        mask_band=None,
        indices=("ndvi", "ndwi", "brightness"),
        resolution_m=4.0,
        notes="no SWIR: construction uses brightness+NDVI, water uses NDWI; clouds by brightness test",
    ),
    # Drone orthomosaic, 8-bit R, G, B.
    "drone_rgb": SensorProfile(
        name="drone_rgb",
        band_count=3,
        bands={"red": 1, "green": 2, "blue": 3},
        scale=1.0 / 255.0,
        nodata=None,
        mask_band=None,
        indices=("exg", "vari", "brightness"),
        resolution_m=0.05,
        notes="no NIR/SWIR: vegetation by ExG, no water rule",
    ),
}


def sensor_profile(sensor: str | SensorProfile, *, acquired: _dt.date | None = None) -> SensorProfile:
    """Return the profile for ``sensor``; for sentinel2 apply the -1000 DN offset when
    ``acquired`` is on/after 2022-01-25 (reflectance = (DN - 1000) / 10000)."""
    if isinstance(sensor, SensorProfile):
        prof = sensor
    else:
        try:
            prof = SENSORS[sensor]
        except KeyError:
            known = ", ".join(sorted(SENSORS))
            raise SensorMismatchError(None, "unknown_sensor", sensor=str(sensor), known=known) from None
    if prof.name == "sentinel2" and acquired is not None and acquired >= SENTINEL2_OFFSET_FROM:
        prof = replace(prof, offset=-1000 * prof.scale)
    return prof
