"""Sentinel-2 Level-2A products as ESA delivers them: a ``.SAFE`` folder, or its zip.

Layout (PSD 14, processing baselines 02.xx – 05.xx)::

    S2A_MSIL2A_20230815T030551_N0509_R075_T50RQU_20230815T070958.SAFE/
      MTD_MSIL2A.xml                      product metadata (the file list, offsets, quantification)
      GRANULE/L2A_T50RQU_…/MTD_TL.xml     tile metadata (mean sun angles)
      GRANULE/L2A_T50RQU_…/IMG_DATA/R10m/T50RQU_20230815T030551_B02_10m.jp2   B02 B03 B04 B08
      GRANULE/L2A_T50RQU_…/IMG_DATA/R20m/T50RQU_20230815T030551_B11_20m.jp2   B11, SCL (20 m)

Reflectance = (DN + BOA_ADD_OFFSET[band]) / BOA_QUANTIFICATION_VALUE. ``BOA_ADD_OFFSET`` is read
from ``MTD_MSIL2A.xml``; products without the list (baselines before 04.00) get it from the
baseline, else from the acquisition date (−1000 from 2022-01-25 on, ``constants``). The file
names come from the metadata's ``IMAGE_FILE`` entries (checked to stay inside the product),
else from the ``GRANULE/*/IMG_DATA`` folders. A zip is read in place through ``/vsizip/``; its
members are looked up in the zip's own listing, so a name can never leave it.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

from ..constants import SENTINEL2_OFFSET_FROM
from ..errors import CorruptRasterError
from .base import (
    BandFile,
    DateSource,
    MissingBandError,
    check_name,
    floats,
    parse_date,
    resolve_inside,
    sniff_driver,
    vsizip,
)

#: role -> (band name, resolution in m) read for detection; SCL is the 20 m one.
S2_ROLES = {"blue": ("B02", 10), "green": ("B03", 10), "red": ("B04", 10), "nir": ("B08", 10), "swir1": ("B11", 20)}
#: band_id of BOA_ADD_OFFSET / Spectral_Information in the metadata.
BAND_ID = {b: i for i, b in enumerate("B01 B02 B03 B04 B05 B06 B07 B08 B8A B09 B10 B11 B12".split())}
MAX_XML_BYTES = 20 * 1024 * 1024


def is_safe(path: Path) -> bool:
    if path.is_dir():
        return path.suffix.upper() == ".SAFE" or (path / "MTD_MSIL2A.xml").is_file()
    return path.suffix.lower() == ".zip"


class _Folder:
    def __init__(self, root: Path, product: str):
        self.root, self.product = root, product

    def names(self) -> list[str]:
        return [str(p.relative_to(self.root)) for p in self.root.rglob("*") if p.is_file()]

    def read(self, name: str) -> bytes:
        p = resolve_inside(self.root, name, self.product)
        if p.stat().st_size > MAX_XML_BYTES:
            raise CorruptRasterError(p, "metadata_too_large", member=name)
        return p.read_bytes()

    def band_path(self, name: str) -> str | None:
        p = resolve_inside(self.root, name, self.product)
        return str(p) if p.is_file() else None


class _Zip:
    def __init__(self, path: Path, product: str):
        self.path, self.product = path, product
        try:
            with zipfile.ZipFile(path) as z:
                infos = z.infolist()
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise CorruptRasterError(path, "zip_damaged", detail=str(exc)[:200]) from exc
        size = path.stat().st_size
        for info in infos:  # a member whose data lies past the end is a truncated download
            if info.header_offset + info.compress_size > size:
                raise CorruptRasterError(path, "zip_truncated", member=info.filename)
        self.members = {i.filename: i for i in infos if not i.is_dir()}
        tops = {n.split("/", 1)[0] for n in self.members if n.endswith("MTD_MSIL2A.xml") and n.count("/") == 1}
        self.prefix = (sorted(tops)[0] + "/") if tops else ""

    def names(self) -> list[str]:
        n = len(self.prefix)
        return [m[n:] for m in self.members if m.startswith(self.prefix)]

    def read(self, name: str) -> bytes:
        check_name(name, self.product)
        info = self.members.get(self.prefix + name)
        if info is None:
            raise FileNotFoundError(name)
        if info.file_size > MAX_XML_BYTES:
            raise CorruptRasterError(self.path, "metadata_too_large", member=name)
        try:
            with zipfile.ZipFile(self.path) as z:
                return z.read(info)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise CorruptRasterError(self.path, "zip_member_unreadable", member=name, detail=str(exc)[:200]) from exc

    def band_path(self, name: str) -> str | None:
        check_name(name, self.product)
        member = self.prefix + name
        return vsizip(self.path.resolve(), member) if member in self.members else None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _xml(data: bytes, where: str) -> ET.Element:
    if b"<!DOCTYPE" in data[:4096] or b"<!ENTITY" in data:
        raise CorruptRasterError(where, "xml_entities")
    try:
        return ET.fromstring(data)
    except ET.ParseError as exc:
        raise CorruptRasterError(where, "xml_invalid", detail=str(exc)[:200]) from exc


def _texts(root: ET.Element, name: str) -> list[ET.Element]:
    return [e for e in root.iter() if _local(e.tag) == name]


def _first(root: ET.Element, name: str) -> str | None:
    found = _texts(root, name)
    return (found[0].text or "").strip() if found else None


def read_safe(path: str | Path, *, acquired: dt.date | None = None) -> DateSource:
    """A Sentinel-2 L2A ``.SAFE`` folder or zip as one ``DateSource`` (10 m grid, B11 and SCL
    at 20 m, resampled on the fly by the reader)."""
    p = Path(path)
    product = str(p)
    store = _Folder(p, product) if p.is_dir() else _Zip(p, product)
    names = store.names()
    if "MTD_MSIL2A.xml" not in names:
        l1c = "MTD_MSIL1C.xml" in names
        raise CorruptRasterError(product, "safe_level1c" if l1c else "safe_no_metadata")
    mtd = _xml(store.read("MTD_MSIL2A.xml"), f"{product}/MTD_MSIL2A.xml")
    start = _first(mtd, "PRODUCT_START_TIME") or _first(mtd, "DATATAKE_SENSING_START")
    day = acquired or parse_date(start)
    baseline = _first(mtd, "PROCESSING_BASELINE")
    quant = floats(_first(mtd, "BOA_QUANTIFICATION_VALUE")) or 10000.0
    offsets = {}
    for e in _texts(mtd, "BOA_ADD_OFFSET"):
        v = floats(e.text)
        if v is not None and str(e.get("band_id", "")).isdigit():
            offsets[int(e.get("band_id"))] = v
    notes = []
    if not offsets:
        new = (baseline is not None and baseline >= "04.00") or (day is not None and day >= SENTINEL2_OFFSET_FROM)
        default = -1000.0 if new else 0.0
        notes.append(f"BOA_ADD_OFFSET not in the metadata: {default:.0f} from the baseline/date rule")
    else:
        default = 0.0
    entries = [(e.text or "").strip() for e in _texts(mtd, "IMAGE_FILE")]
    if not entries:  # older metadata without a file list: look in the granule folders
        entries = [n[: -len(".jp2")] for n in names if n.startswith("GRANULE/") and n.endswith(".jp2")]
    for entry in entries:
        check_name(entry, product)

    def band_file(band: str, res: int, *, reflectance: bool) -> BandFile:
        suffix = f"_{band}_{res}m"
        entry = next((e for e in entries if e.endswith(suffix)), None)
        located = store.band_path(entry + ".jp2") if entry else None
        if located is None:
            raise MissingBandError(product, "band_missing", band=band, res=res)
        driver = sniff_driver(located)
        if not reflectance:
            return BandFile(located, nodata=0, driver=driver)
        off = offsets.get(BAND_ID[band], default)
        return BandFile(located, scale=1.0 / quant, offset=off / quant, nodata=0, driver=driver)

    bands = {role: band_file(b, r, reflectance=True) for role, (b, r) in S2_ROLES.items()}
    mask = band_file("SCL", 20, reflectance=False)
    zenith = azimuth = None
    tile = next((n for n in names if n.startswith("GRANULE/") and n.endswith("/MTD_TL.xml")), None)
    if tile:
        tl = _xml(store.read(tile), f"{product}/{tile}")
        sun = next(iter(_texts(tl, "Mean_Sun_Angle")), None)
        if sun is not None:
            zenith, azimuth = floats(_first(sun, "ZENITH_ANGLE")), floats(_first(sun, "AZIMUTH_ANGLE"))
    return DateSource(
        path=product,
        kind="safe",
        sensor="sentinel2",
        acquired=day,
        bands=bands,
        mask=mask,
        mask_kind="scl",
        sun_zenith=zenith,
        sun_azimuth=azimuth,
        processing_baseline=baseline,
        notes=tuple(notes),
    )
