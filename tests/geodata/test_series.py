import datetime as dt

import numpy as np
import pytest

from geodata.raster.errors import SeriesOrderError
from geodata.raster.series import CONFIRM_BONUS, HIGH, LOW_CAP, combine, detect_series

from .conftest import field, paint

D = [dt.date(2023, 3, 1), dt.date(2023, 6, 1), dt.date(2023, 9, 1), dt.date(2023, 12, 1)]


def test_combine_persistence_and_confidence():
    # 3 later dates, 5 pixels: confirmed / transient / last date only / two indices / cloud, then seen
    cls = np.array(
        [
            [1, 1, 0, 2, 255],
            [1, 0, 0, 0, 1],
            [1, 0, 3, 0, 1],
        ],
        np.uint8,
    )[:, None, :]
    conf = np.array(
        [
            [0.4, 0.4, 0.0, 0.8, np.nan],
            [0.4, 0.0, 0.0, 0.0, 0.45],
            [0.4, 0.0, 0.3, 0.0, 0.45],
        ],
        np.float32,
    )[:, None, :]
    c, first, p = combine(cls, conf)
    assert c[0].tolist() == [1, 0, 3, 0, 1]  # the two-index pixel later seen unchanged is dropped too
    assert first[0].tolist() == [0, -1, 2, -1, 1]
    assert p[0, 0] == pytest.approx(HIGH + CONFIRM_BONUS)  # confirmed by later dates: high
    assert p[0, 2] == pytest.approx(0.3) and p[0, 2] <= LOW_CAP  # last date only: low
    assert p[0, 4] == pytest.approx(HIGH + CONFIRM_BONUS)
    c, first, p = combine(cls[:1, :, 3:4], conf[:1, :, 3:4])  # two indices, nothing after: high
    assert c[0, 0] == 2 and p[0, 0] == pytest.approx(0.8)


def test_series_reports_what_persisted(scene):
    base = field("vegetation", 256, 256, seed=1)
    d1 = paint(paint(field("vegetation", 256, 256, seed=2), "soil", 40, 40, 80, 90), "soil", 150, 150, 190, 200)
    d2 = paint(field("vegetation", 256, 256, seed=3), "soil", 40, 40, 80, 90)  # the second one was transient
    # a new change on the last date, which only NDVI sees (forest to grass: excess green barely moves)
    d3 = paint(paint(field("vegetation", 256, 256, seed=4), "soil", 40, 40, 80, 90), "grass", 150, 20, 190, 60)
    paths = [scene(f"d{i}.tif", x) for i, x in enumerate((base, d1, d2, d3))]
    res = detect_series(paths, "gf2", dates=D, min_area_m2=500)
    by = sorted(res.records, key=lambda r: r.first_seen)
    assert [(r.change_type, r.first_seen) for r in by] == [("vegetation_loss", D[1]), ("vegetation_loss", D[3])]
    assert by[0].confidence == pytest.approx(1.0)  # confirmed twice, two indices: high
    assert by[1].confidence < HIGH  # one date, one index: low (a few edge pixels see two)
    assert by[0].area_m2 == pytest.approx(40 * 50 * 16, rel=0.02)
    assert by[0].to_feature()["properties"]["first_seen"] == "2023-06-01"


def test_series_out_of_order_names_the_file(scene):
    x = field("vegetation", 64, 64)
    paths = [scene(f"s{i}.tif", x) for i in range(3)]
    with pytest.raises(SeriesOrderError, match=r"s2\.tif: date 2023-03-01 is not after the previous date 2023-06-01"):
        detect_series(paths, "gf2", dates=[D[0], D[1], D[0]])
    with pytest.raises(SeriesOrderError, match="three or more dates"):
        detect_series(paths[:2], "gf2", dates=D[:2])
