"""Small, realistic products as they are downloaded, for tests: a Sentinel-2 L2A ``.SAFE``
folder (and its zip) with JP2 bands (B11 and SCL at 20 m) and ``MTD_MSIL2A.xml`` /
``MTD_TL.xml`` in the PSD-14 structure, a STAC item with per-band COGs (Earth Search v1 asset
keys), and a Landsat 9 Collection-2 Level-2 folder with ``SR_B*.TIF``, ``QA_PIXEL`` and MTL.

The landscape: vegetation with noise, one block turned to bare soil on the after date (a
change), and a cloud on the after date flagged in the product mask. Reflectance is encoded
with each date's own offset (Sentinel-2: −1000 DN from 2022-01-25 on), so a reader that
ignored it would see every pixel change.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from rasterio.shutil import copy as rio_copy

# B, G, R, NIR, SWIR-1 surface reflectance.
VEGETATION = (0.035, 0.075, 0.045, 0.40, 0.18)
SOIL = (0.09, 0.12, 0.15, 0.21, 0.32)
CLOUD = (0.55, 0.56, 0.57, 0.58, 0.50)
#: West Lake, UTM 51N: the scenes overlap the demo grid.
ORIGIN = (223_500.0, 3_352_000.0)
CHANGE = (slice(60, 100), slice(60, 110))  # rows, cols at 10 m: 40 x 50 px = 20 ha
CLOUD_BOX = (slice(150, 200), slice(150, 210))


def landscape(size: int, *, changed: bool, cloud: bool, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = np.broadcast_to(np.array(VEGETATION, np.float32)[:, None, None], (5, size, size)).copy()
    img += rng.normal(0, 0.004, img.shape).astype(np.float32)
    if changed:
        img[:, CHANGE[0], CHANGE[1]] = np.array(SOIL, np.float32)[:, None, None]
    if cloud:
        img[:, CLOUD_BOX[0], CLOUD_BOX[1]] = np.array(CLOUD, np.float32)[:, None, None]
    return img


def _write(path: Path, data: np.ndarray, transform, *, crs="EPSG:32651", driver="GTiff", nodata=0):
    path.parent.mkdir(parents=True, exist_ok=True)
    h, w = data.shape
    prof = dict(width=w, height=h, count=1, dtype=data.dtype, crs=crs, transform=transform, nodata=nodata)
    if driver == "JP2OpenJPEG":
        tmp = path.with_suffix(".tmp.tif")
        with rasterio.open(tmp, "w", driver="GTiff", **prof) as dst:
            dst.write(data, 1)
        rio_copy(tmp, path, driver="JP2OpenJPEG", REVERSIBLE="YES", QUALITY="100", BLOCKXSIZE=128, BLOCKYSIZE=128)
        tmp.unlink()
        for aux in path.parent.glob(path.name + ".aux.xml"):
            aux.unlink()
    elif driver == "COG":
        tmp = path.with_suffix(".tmp.tif")
        with rasterio.open(tmp, "w", driver="GTiff", **prof) as dst:
            dst.write(data, 1)
        rio_copy(tmp, path, driver="COG", BLOCKSIZE=128, COMPRESS="DEFLATE")
        tmp.unlink()
    else:
        with rasterio.open(path, "w", driver=driver, tiled=True, blockxsize=128, blockysize=128, **prof) as dst:
            dst.write(data, 1)


def _down2(a: np.ndarray, *, mean: bool) -> np.ndarray:
    h, w = a.shape
    v = a[: h // 2 * 2, : w // 2 * 2].reshape(h // 2, 2, w // 2, 2)
    return v.mean(axis=(1, 3)) if mean else v[:, 0, :, 0]


def s2_dn(refl: np.ndarray, offset_dn: int) -> np.ndarray:
    return np.clip(np.rint(refl * 10000) - offset_dn, 1, 65535).astype("uint16")


def make_safe(
    root: Path,
    when: dt.date,
    *,
    size: int = 256,
    changed: bool = False,
    cloud: bool = False,
    seed: int = 0,
    with_offsets_list: bool = True,
    drop: tuple[str, ...] = (),
    as_zip: bool = False,
) -> Path:
    """Write an L2A product; ``drop`` leaves band files out; returns the folder or the zip."""
    new = when >= dt.date(2022, 1, 25)
    offset_dn = -1000 if new else 0
    baseline = "05.09" if new else "03.01"
    stamp = when.strftime("%Y%m%d") + "T025529"
    name = f"S2B_MSIL2A_{stamp}_N{baseline.replace('.', '')}_R032_T51RTP_{when:%Y%m%d}T061234.SAFE"
    safe = root / name
    granule = f"L2A_T51RTP_A033712_{when:%Y%m%d}T030417"
    img = f"GRANULE/{granule}/IMG_DATA"
    refl = landscape(size, changed=changed, cloud=cloud, seed=seed)
    t10 = Affine(10, 0, ORIGIN[0], 0, -10, ORIGIN[1])
    t20 = Affine(20, 0, ORIGIN[0], 0, -20, ORIGIN[1])
    files = []
    for i, band in enumerate(("B02", "B03", "B04", "B08")):
        rel = f"{img}/R10m/T51RTP_{stamp}_{band}_10m"
        files.append(rel)
        if band not in drop:
            _write(safe / (rel + ".jp2"), s2_dn(refl[i], offset_dn), t10, driver="JP2OpenJPEG")
    rel = f"{img}/R20m/T51RTP_{stamp}_B11_20m"
    files.append(rel)
    if "B11" not in drop:
        _write(safe / (rel + ".jp2"), s2_dn(_down2(refl[4], mean=True), offset_dn), t20, driver="JP2OpenJPEG")
    scl = np.full((size, size), 4, np.uint8)  # 4 vegetation
    if cloud:
        scl[CLOUD_BOX] = 9  # cloud high probability
    rel = f"{img}/R20m/T51RTP_{stamp}_SCL_20m"
    files.append(rel)
    if "SCL" not in drop:
        _write(safe / (rel + ".jp2"), _down2(scl, mean=False), t20, driver="JP2OpenJPEG")
    offsets = (
        "<BOA_ADD_OFFSET_VALUES_LIST>"
        + "".join(f'<BOA_ADD_OFFSET band_id="{i}">{offset_dn}</BOA_ADD_OFFSET>' for i in range(13))
        + "</BOA_ADD_OFFSET_VALUES_LIST>"
        if with_offsets_list and new
        else ""
    )
    image_files = "".join(f"<IMAGE_FILE>{f}</IMAGE_FILE>" for f in files)
    (safe / "MTD_MSIL2A.xml").write_text(
        f"""<?xml version="1.0" encoding="UTF-8"?>
<n1:Level-2A_User_Product xmlns:n1="https://psd-14.sentinel2.eo.esa.int/PSD/User_Product_Level-2A.xsd">
  <n1:General_Info>
    <Product_Info>
      <PRODUCT_START_TIME>{when.isoformat()}T02:55:29.024Z</PRODUCT_START_TIME>
      <PRODUCT_STOP_TIME>{when.isoformat()}T02:55:29.024Z</PRODUCT_STOP_TIME>
      <PRODUCT_TYPE>S2MSI2A</PRODUCT_TYPE>
      <PROCESSING_LEVEL>Level-2A</PROCESSING_LEVEL>
      <PROCESSING_BASELINE>{baseline}</PROCESSING_BASELINE>
      <Datatake datatakeIdentifier="GS2B_{stamp}_033712_N{baseline.replace(".", "")}">
        <SPACECRAFT_NAME>Sentinel-2B</SPACECRAFT_NAME>
        <DATATAKE_SENSING_START>{when.isoformat()}T02:55:29.024Z</DATATAKE_SENSING_START>
      </Datatake>
      <Product_Organisation>
        <Granule_List>
          <Granule granuleIdentifier="{granule}" imageFormat="JPEG2000">{image_files}</Granule>
        </Granule_List>
      </Product_Organisation>
    </Product_Info>
    <Product_Image_Characteristics>
      <QUANTIFICATION_VALUES_LIST>
        <BOA_QUANTIFICATION_VALUE unit="none">10000</BOA_QUANTIFICATION_VALUE>
        <AOT_QUANTIFICATION_VALUE unit="none">1000.0</AOT_QUANTIFICATION_VALUE>
        <WVP_QUANTIFICATION_VALUE unit="cm">1000.0</WVP_QUANTIFICATION_VALUE>
      </QUANTIFICATION_VALUES_LIST>
      {offsets}
    </Product_Image_Characteristics>
  </n1:General_Info>
</n1:Level-2A_User_Product>
""",
        encoding="utf-8",
    )
    tl = safe / "GRANULE" / granule / "MTD_TL.xml"
    tl.parent.mkdir(parents=True, exist_ok=True)
    tl.write_text(
        """<?xml version="1.0" encoding="UTF-8"?>
<n1:Level-2A_Tile_ID xmlns:n1="https://psd-14.sentinel2.eo.esa.int/PSD/S2_PDI_Level-2A_Tile_Metadata.xsd">
  <n1:Geometric_Info><Tile_Angles><Mean_Sun_Angle>
    <ZENITH_ANGLE unit="deg">24.5</ZENITH_ANGLE><AZIMUTH_ANGLE unit="deg">131.25</AZIMUTH_ANGLE>
  </Mean_Sun_Angle></Tile_Angles></n1:Geometric_Info>
</n1:Level-2A_Tile_ID>
""",
        encoding="utf-8",
    )
    (safe / "manifest.safe").write_text("<xfdu:XFDU xmlns:xfdu='urn:ccsds:schema:xfdu:1'/>\n")
    if not as_zip:
        return safe
    zpath = root / (safe.name[: -len(".SAFE")] + ".zip")
    with zipfile.ZipFile(zpath, "w", zipfile.ZIP_STORED) as z:
        for f in sorted(safe.rglob("*")):
            if f.is_file():
                z.write(f, f"{safe.name}/{f.relative_to(safe)}")
    shutil.rmtree(safe)
    return zpath


def make_stac(
    root: Path,
    when: dt.date,
    *,
    size: int = 256,
    changed: bool = False,
    cloud: bool = False,
    seed: int = 0,
    hrefs: dict[str, str] | None = None,
) -> Path:
    """An Earth Search v1-style Sentinel-2 L2A item with local COGs; ``hrefs`` overrides some."""
    folder = root / f"S2B_51RTP_{when:%Y%m%d}_0_L2A"
    new = when >= dt.date(2022, 1, 25)
    offset_dn = -1000 if new else 0
    refl = landscape(size, changed=changed, cloud=cloud, seed=seed)
    t10 = Affine(10, 0, ORIGIN[0], 0, -10, ORIGIN[1])
    t20 = Affine(20, 0, ORIGIN[0], 0, -20, ORIGIN[1])
    assets = {}
    for i, (key, band) in enumerate((("blue", "B02"), ("green", "B03"), ("red", "B04"), ("nir", "B08"))):
        _write(folder / f"{band}.tif", s2_dn(refl[i], offset_dn), t10, driver="COG")
        assets[key] = (f"./{band}.tif", band, key, 10)
    _write(folder / "B11.tif", s2_dn(_down2(refl[4], mean=True), offset_dn), t20, driver="COG")
    assets["swir16"] = ("./B11.tif", "B11", "swir16", 20)
    scl = np.full((size, size), 4, np.uint8)
    if cloud:
        scl[CLOUD_BOX] = 9
    _write(folder / "SCL.tif", _down2(scl, mean=False), t20, driver="COG")
    item_assets = {}
    for key, (href, band, common, gsd) in assets.items():
        item_assets[key] = {
            "href": (hrefs or {}).get(key, href),
            "type": "image/tiff; application=geotiff; profile=cloud-optimized",
            "roles": ["data", "reflectance"],
            "eo:bands": [{"name": band, "common_name": common}],
            "gsd": gsd,
            "raster:bands": [{"nodata": 0, "data_type": "uint16", "scale": 0.0001, "offset": offset_dn / 10000}],
        }
    item_assets["scl"] = {"href": (hrefs or {}).get("scl", "./SCL.tif"), "type": "image/tiff", "roles": ["data"]}
    item = {
        "type": "Feature",
        "stac_version": "1.0.0",
        "stac_extensions": [
            "https://stac-extensions.github.io/eo/v1.1.0/schema.json",
            "https://stac-extensions.github.io/raster/v1.1.0/schema.json",
            "https://stac-extensions.github.io/view/v1.0.0/schema.json",
        ],
        "id": folder.name,
        "bbox": [120.13, 30.26, 120.16, 30.28],
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[120.13, 30.26], [120.16, 30.26], [120.16, 30.28], [120.13, 30.28], [120.13, 30.26]]],
        },
        "properties": {
            "datetime": f"{when.isoformat()}T02:55:29Z",
            "platform": "sentinel-2b",
            "constellation": "sentinel-2",
            "s2:processing_baseline": "05.09" if new else "03.01",
            "earthsearch:boa_offset_applied": False,
            "view:sun_elevation": 65.5,
            "view:sun_azimuth": 131.25,
        },
        "links": [],
        "assets": item_assets,
    }
    path = folder / f"{folder.name}.json"
    path.write_text(json.dumps(item, indent=1), encoding="utf-8")
    return path


def make_landsat(
    root: Path, when: dt.date, *, size: int = 90, changed: bool = False, cloud: bool = False, seed: int = 0
) -> Path:
    """A Landsat 9 C2 L2 folder at 30 m (the same landscape sampled every third 10 m pixel)."""
    pid = f"LC09_L2SP_119039_{when:%Y%m%d}_{when:%Y%m%d}_02_T1"
    folder = root / pid
    refl = landscape(size * 3, changed=changed, cloud=cloud, seed=seed)[:, ::3, ::3]
    t30 = Affine(30, 0, ORIGIN[0], 0, -30, ORIGIN[1])
    for i, n in enumerate((2, 3, 4, 5, 6)):
        dn = np.clip(np.rint((refl[i] + 0.2) / 2.75e-5), 1, 65535).astype("uint16")
        _write(folder / f"{pid}_SR_B{n}.TIF", dn, t30)
    qa = np.full((size, size), 21824, np.uint16)  # clear, low confidences
    if cloud:
        qa[CLOUD_BOX[0].start // 3 : CLOUD_BOX[0].stop // 3, CLOUD_BOX[1].start // 3 : CLOUD_BOX[1].stop // 3] = 22280
    _write(folder / f"{pid}_QA_PIXEL.TIF", qa, t30, nodata=1)
    files = "\n".join(f'    FILE_NAME_BAND_{n} = "{pid}_SR_B{n}.TIF"' for n in (2, 3, 4, 5, 6))
    params = "\n".join(
        f"    REFLECTANCE_MULT_BAND_{n} = 2.75E-05\n    REFLECTANCE_ADD_BAND_{n} = -0.200000" for n in (2, 3, 4, 5, 6)
    )
    (folder / f"{pid}_MTL.txt").write_text(
        f"""GROUP = LANDSAT_METADATA_FILE
  GROUP = PRODUCT_CONTENTS
    LANDSAT_PRODUCT_ID = "{pid}"
    PROCESSING_LEVEL = "L2SP"
{files}
    FILE_NAME_QUALITY_L1_PIXEL = "{pid}_QA_PIXEL.TIF"
  END_GROUP = PRODUCT_CONTENTS
  GROUP = IMAGE_ATTRIBUTES
    SPACECRAFT_ID = "LANDSAT_9"
    SENSOR_ID = "OLI_TIRS"
    DATE_ACQUIRED = {when.isoformat()}
    SUN_AZIMUTH = 120.5
    SUN_ELEVATION = 62.0
  END_GROUP = IMAGE_ATTRIBUTES
  GROUP = LEVEL2_SURFACE_REFLECTANCE_PARAMETERS
{params}
  END_GROUP = LEVEL2_SURFACE_REFLECTANCE_PARAMETERS
END_GROUP = LANDSAT_METADATA_FILE
END
""",
        encoding="utf-8",
    )
    return folder
