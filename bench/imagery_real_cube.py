"""Accuracy on real Sentinel-2 L2A pixels: the nrt 0.2.1 cube (1 km² of Carpathian forest,
140 dates, SCL; 10 m bands plus B11 from the 20 m cube), pair 2016-08-05 -> 2020-08-04,
against the time-series reference of ``geodata.raster.reference`` (summer 2016 vs summer 2020
clear observations, several dates agreeing; docs/imagery-accuracy.md).

value = min(precision, recall) by area with a 1-pixel tolerance, baseline = 1.0; PASS when
both are >= 0.7 and the new forest road (the reference's thin lines) is found (>= 70 % of its
pixels within a pixel of a detection). Figures in parentheses on the next line; the strict
precision counts partial canopy loss (NDVI drop 0.07-0.15) as no change.
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import rasterio  # noqa: E402
from benchlib import report  # noqa: E402

from geodata.raster.detect import detect_changes  # noqa: E402
from geodata.raster.evaluate import area_scores  # noqa: E402
from geodata.raster.products.netcdf import read_cube_date  # noqa: E402
from geodata.raster.reference import cube_reference, linear_parts  # noqa: E402

BEFORE, AFTER = dt.date(2016, 8, 5), dt.date(2020, 8, 4)
PERIODS = ((dt.date(2016, 6, 1), dt.date(2016, 9, 30)), (dt.date(2020, 6, 1), dt.date(2020, 9, 30)))
ROAD_MIN_LENGTH_PX = 15


def nrt_dir() -> Path:
    import importlib.util

    spec = importlib.util.spec_from_file_location("fetch_testdata", ROOT / "scripts" / "fetch_testdata.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.main(["--quiet"])
    return mod.package_dir("nrt")


def run() -> dict:
    d = nrt_dir()
    p10, p20 = d / "sentinel2_cube_subset_romania_10m.nc", d / "sentinel2_cube_subset_romania_20m.nc"
    ref = cube_reference(p10, BEFORE, *PERIODS)
    road = linear_parts(ref.changed, ROAD_MIN_LENGTH_PX)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "changes.tif"
        res = detect_changes(
            read_cube_date(p10, BEFORE, path_20m=p20), read_cube_date(p10, AFTER, path_20m=p20), change_raster_path=out
        )
        with rasterio.open(out) as ds:
            classes = ds.read(1)
    detected = (classes > 0) & (classes != 255)
    sc = area_scores(detected, ref.changed, neutral=ref.neutral, tolerance_px=1)
    strict = area_scores(detected, ref.changed, neutral=ref.unknown, tolerance_px=1)
    return dict(
        recall=sc.recall,
        precision=sc.precision,
        precision_strict=strict.precision,
        road=area_scores(detected, road, tolerance_px=1).recall,
        road_px=int(road.sum()),
        reference_px=int(ref.changed.sum()),
        candidates=len(res),
        dates=(len(ref.dates_before), len(ref.dates_after)),
    )


if __name__ == "__main__":
    r = run()
    v = min(r["recall"], r["precision"])
    ok = v >= 0.7 and r["road"] >= 0.7
    report("imagery_real_cube", value=v, baseline=1.0, goal="precision>=0.7,recall>=0.7,road_found", passed=ok)
    print(
        f"(nrt 2016-08-05->2020-08-04: recall_area_1px={r['recall']:.3f} precision_area_1px={r['precision']:.3f} "
        f"precision_strict={r['precision_strict']:.3f} road_found={r['road'] >= 0.7} road_recall={r['road']:.3f} "
        f"reference_px={r['reference_px']} road_px={r['road_px']} candidates={r['candidates']} "
        f"reference_dates={r['dates'][0]}+{r['dates'][1]})",
        file=sys.stderr,
    )
