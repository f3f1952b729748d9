"""HJ 633 AQI: literal values computed by hand from the breakpoint tables.

Tables: HJ 633-2026 as issue 17 gives it; HJ 633-2012 Table 1 (PM10 150 and PM2.5 75 at IAQI
100), its notes (2) and (3) for SO₂ 1 h and O₃ 8 h above 800. Each expected value below is
IAQI_lo + (IAQI_hi − IAQI_lo)(C − BP_lo)/(BP_hi − BP_lo), worked out in the comment, rounded up.
"""

from __future__ import annotations

import datetime as dt

import pytest

from quality import aqi
from quality.aqi import HJ633_2012, HJ633_2026, daily_aqi, hourly_aqi, level_of, sub_index

NEW = dt.date(2026, 3, 1)  # the first day of HJ 633-2026
OLD = dt.date(2026, 2, 28)  # the last day of HJ 633-2012
ROWS_2026 = aqi.BREAKPOINTS[HJ633_2026]
ROWS_2012 = aqi.BREAKPOINTS[HJ633_2012]

# Every breakpoint of every row, with the IAQI it stands for (the header of Table 1).
EDGES_2026 = {
    "so2_24h": [(0, 0), (50, 50), (150, 100), (475, 150), (800, 200), (1600, 300), (2100, 400), (2620, 500)],
    "so2_1h": [(0, 0), (150, 50), (500, 100), (650, 150), (800, 200)],
    "no2_24h": [(0, 0), (40, 50), (80, 100), (180, 150), (280, 200), (565, 300), (750, 400), (940, 500)],
    "no2_1h": [(0, 0), (100, 50), (200, 100), (700, 150), (1200, 200), (2340, 300), (3090, 400), (3840, 500)],
    "co_24h": [(0, 0), (2, 50), (4, 100), (14, 150), (24, 200), (36, 300), (48, 400), (60, 500)],
    "co_1h": [(0, 0), (5, 50), (10, 100), (35, 150), (60, 200), (90, 300), (120, 400), (150, 500)],
    "o3_8h": [(0, 0), (100, 50), (160, 100), (215, 150), (265, 200), (800, 300)],
    "o3_1h": [(0, 0), (160, 50), (200, 100), (300, 150), (400, 200), (800, 300), (1000, 400), (1200, 500)],
    "pm10_24h": [(0, 0), (50, 50), (120, 100), (250, 150), (350, 200), (420, 300), (500, 400), (600, 500)],
    "pm25_24h": [(0, 0), (35, 50), (60, 100), (115, 150), (150, 200), (250, 300), (350, 400), (500, 500)],
}
EDGES_2012 = {
    **{k: v for k, v in EDGES_2026.items() if not k.startswith("pm")},
    "pm10_24h": [(0, 0), (50, 50), (150, 100), (250, 150), (350, 200), (420, 300), (500, 400), (600, 500)],
    "pm25_24h": [(0, 0), (35, 50), (75, 100), (115, 150), (150, 200), (250, 300), (350, 400), (500, 500)],
}


@pytest.mark.parametrize(
    "rows,edges", [(ROWS_2026, EDGES_2026), (ROWS_2012, EDGES_2012)], ids=["HJ 633-2026", "HJ 633-2012"]
)
def test_every_breakpoint_gives_its_own_iaqi(rows, edges):
    assert set(rows) == set(edges)
    for row, pairs in edges.items():
        for concentration, expected in pairs:
            assert sub_index(rows[row], concentration) == expected, (row, concentration)


# Issue 17's tables as the issue writes them (µg/m³, CO mg/m³), for IAQI 0 / 50 / 100 / 150 / 200 /
# 300 / 400 / 500, and its differences of HJ 633-2012 (PM10's 100-breakpoint 150, PM2.5's 75).
ISSUE_IAQI = (0, 50, 100, 150, 200, 300, 400, 500)
ISSUE_2026 = {
    "so2_24h": (0, 50, 150, 475, 800, 1600, 2100, 2620),
    "so2_1h": (0, 150, 500, 650, 800),
    "no2_24h": (0, 40, 80, 180, 280, 565, 750, 940),
    "no2_1h": (0, 100, 200, 700, 1200, 2340, 3090, 3840),
    "co_24h": (0, 2, 4, 14, 24, 36, 48, 60),
    "co_1h": (0, 5, 10, 35, 60, 90, 120, 150),
    "o3_8h": (0, 100, 160, 215, 265, 800),
    "o3_1h": (0, 160, 200, 300, 400, 800, 1000, 1200),
    "pm10_24h": (0, 50, 120, 250, 350, 420, 500, 600),
    "pm25_24h": (0, 35, 60, 115, 150, 250, 350, 500),
}
ISSUE_2012 = {
    **ISSUE_2026,
    "pm10_24h": (0, 50, 150, 250, 350, 420, 500, 600),
    "pm25_24h": (0, 35, 75, 115, 150, 250, 350, 500),
}


def test_the_breakpoints_are_the_issues_tables():
    """Literally: a typo in a breakpoint can hide from IAQI values, which are rounded up (3840 written
    3841 still gives 500 at 3840)."""
    assert aqi.BREAKPOINTS == {HJ633_2026: ISSUE_2026, HJ633_2012: ISSUE_2012}
    assert aqi.IAQI_STEPS == ISSUE_IAQI


@pytest.mark.parametrize("standard,table", [(HJ633_2026, ISSUE_2026), (HJ633_2012, ISSUE_2012)])
def test_each_breakpoint_plus_and_minus_a_hundredth(standard, table):
    """0.01 below a breakpoint rounds up to its IAQI; 0.01 above it is the next integer (the slope
    is at least 100/750 per µg/m³, so the step is more than 10⁻⁶); above the last, its IAQI."""
    for row, breakpoints in table.items():
        computed = aqi.BREAKPOINTS[standard][row]
        for j, bp in enumerate(breakpoints):
            iaqi = ISSUE_IAQI[j]
            if j > 0:
                assert sub_index(computed, bp - 0.01) == iaqi, (row, bp, "-0.01")
            above = iaqi if j == len(breakpoints) - 1 else iaqi + 1
            assert sub_index(computed, bp + 0.01) == above, (row, bp, "+0.01")


@pytest.mark.parametrize(
    "row,c,expected",
    [
        ("pm25_24h", 36, 52),  # 50 + 50·1/25 = 52 exactly: not raised
        ("pm25_24h", 35.1, 51),  # 50 + 50·0.1/25 = 50.2 → 51
        ("pm25_24h", 61, 101),  # 100 + 50·1/55 = 100.9 → 101
        ("pm10_24h", 121, 101),  # 100 + 50·1/130 = 100.38 → 101
        ("so2_24h", 51, 51),  # 50 + 50·1/100 = 50.5 → 51
        ("no2_24h", 41, 52),  # 50 + 50·1/40 = 51.25 → 52
        ("co_24h", 0.1, 3),  # 50·0.1/2 = 2.5 → 3
        ("o3_8h", 101, 51),  # 50 + 50·1/60 = 50.83 → 51
        ("o3_1h", 1100, 450),  # 400 + 100·100/200 = 450
        ("so2_1h", 651, 151),  # 150 + 50·1/150 = 150.33 → 151
        # exact for decimals: in floating point these come out a hair above the integer
        ("pm25_24h", 4.9, 7),  # 50·4.9/35 = 7 (float: 7.000000000000001)
        ("co_24h", 0.28, 7),  # 50·0.28/2 = 7
        ("so2_24h", 2120.8, 404),  # 400 + 100·20.8/520 = 404
        # beyond the last breakpoint: 500
        ("pm25_24h", 501, 500),
        ("co_1h", 1000, 500),
    ],
)
def test_iaqi_is_rounded_up(row, c, expected):
    assert sub_index(ROWS_2026[row], c) == expected


def test_2012_pm_breakpoints_between_edges():
    assert sub_index(ROWS_2012["pm25_24h"], 36) == 52  # 50 + 50·1/40 = 51.25 → 52
    assert sub_index(ROWS_2012["pm25_24h"], 76) == 102  # 100 + 50·1/40 = 101.25 → 102
    assert sub_index(ROWS_2012["pm10_24h"], 151) == 101  # 100 + 50·1/100 = 100.5 → 101


LOW_DAY = {"so2": 5, "no2": 20, "co": 0.5, "o3_8h": 60, "pm10": 30}  # IAQIs 5, 25, 13, 30, 30


def test_the_switch_from_2012_to_2026_on_2026_03_01():
    old = daily_aqi(OLD, {**LOW_DAY, "pm25": 75})
    new = daily_aqi(NEW, {**LOW_DAY, "pm25": 75})
    assert (old.aqi, old.standard, old.level.name) == (100, "HJ 633-2012", "良")
    # 2026: 100 + 50·(75 − 60)/55 = 113.6 → 114
    assert (new.aqi, new.standard, new.level.name) == (114, "HJ 633-2026", "轻度污染")
    assert old.primary == new.primary == ("pm25",)
    # PM10 150: IAQI 100 in 2012, 100 + 50·30/130 = 111.5 → 112 in 2026
    assert daily_aqi(OLD, {**LOW_DAY, "pm10": 150, "pm25": 20}).iaqi["pm10"] == 100
    assert daily_aqi(NEW, {**LOW_DAY, "pm10": 150, "pm25": 20}).iaqi["pm10"] == 112


def test_daily_result_lists_every_iaqi_and_the_standard():
    r = daily_aqi(NEW, {**LOW_DAY, "pm25": 20})
    # 5: 50·5/50; 25: 50·20/40; 13: 50·0.5/2 = 12.5 → 13; 30: 50·60/100; 30: 50·30/50; 29: 50·20/35 = 28.6 → 29
    assert r.iaqi == {"so2": 5, "no2": 25, "pm10": 30, "co": 13, "o3_8h": 30, "pm25": 29}
    assert (r.aqi, r.level.name, r.level.colour, r.primary) == (30, "优", "#00E400", ())


def test_no_primary_pollutant_at_50_one_at_51():
    at_50 = daily_aqi(NEW, {**LOW_DAY, "pm25": 35})
    assert (at_50.aqi, at_50.primary) == (50, ())
    at_51 = daily_aqi(NEW, {**LOW_DAY, "pm25": 35.1})
    assert (at_51.aqi, at_51.primary) == (51, ("pm25",))


def test_tied_primary_pollutants_are_listed_together_in_the_standards_order():
    r = daily_aqi(NEW, {**LOW_DAY, "pm10": 120, "pm25": 60})  # both IAQI 100
    assert (r.aqi, r.primary) == (100, ("pm10", "pm25"))
    r = daily_aqi(NEW, {"so2": 150, "no2": 80, "co": 4, "o3_8h": 160, "pm10": 120, "pm25": 60})
    assert (r.aqi, r.primary) == (100, ("so2", "no2", "pm10", "co", "o3_8h", "pm25"))


def test_a_missing_pollutant_gives_an_aqi_only_when_another_exceeds_100():
    polluted = daily_aqi(NEW, {**LOW_DAY, "pm10": 121})  # no PM2.5; PM10 101
    assert (polluted.aqi, polluted.primary, polluted.iaqi["pm25"]) == (101, ("pm10",), None)
    at_100 = daily_aqi(NEW, {**LOW_DAY, "pm10": 120})  # no PM2.5; PM10 exactly 100
    assert (at_100.aqi, at_100.level, at_100.primary) == (None, None, ())
    assert daily_aqi(NEW, {}).aqi is None


def test_2026_so2_1h_above_800_counts_as_200():
    base = {"no2": 50, "co": 1, "o3": 100, "pm10": 40, "pm25": 20}
    r = hourly_aqi(NEW, {**base, "so2": 1500})
    assert (r.iaqi["so2"], r.aqi, r.primary, r.standard) == (200, 200, ("so2",), "HJ 633-2026")


def test_2012_so2_1h_above_800_is_indexed_by_its_24h_average():
    base = {"no2": 50, "co": 1, "o3": 100, "pm10": 40, "pm25": 20}
    # SO₂ 24 h 300: 100 + 50·(300 − 150)/325 = 123.08 → 124
    r = hourly_aqi(OLD, {**base, "so2": 900}, so2_24h=300)
    assert (r.iaqi["so2"], r.aqi, r.primary, r.standard) == (124, 124, ("so2",), "HJ 633-2012")
    # without a 24 h average SO₂ is missing, and the others are below 100: NA
    assert hourly_aqi(OLD, {**base, "so2": 900}).aqi is None
    # at 800 itself the 1 h row still applies: 200
    assert hourly_aqi(OLD, {**base, "so2": 800}, so2_24h=300).iaqi["so2"] == 200


def test_2026_o3_8h_above_800_counts_as_300():
    r = daily_aqi(NEW, {**LOW_DAY, "pm25": 20, "o3_8h": 850})
    assert (r.iaqi["o3_8h"], r.aqi, r.primary, r.level.name) == (300, 300, ("o3_8h",), "重度污染")


def test_2012_o3_8h_above_800_is_indexed_by_its_1h_value():
    # O₃ 1 h 850: 300 + 100·(850 − 800)/200 = 325
    r = daily_aqi(OLD, {**LOW_DAY, "pm25": 20, "o3_8h": 850}, o3_1h=850)
    assert (r.iaqi["o3_8h"], r.aqi, r.primary, r.level.name) == (325, 325, ("o3_8h",), "严重污染")
    assert daily_aqi(OLD, {**LOW_DAY, "pm25": 20, "o3_8h": 850}).aqi is None


def test_hourly_report_uses_1h_rows_and_the_24h_rows_for_pm():
    r = hourly_aqi(NEW, {"so2": 150, "no2": 100, "co": 5, "o3": 160, "pm10": 50, "pm25": 35})
    assert r.iaqi == {"so2": 50, "no2": 50, "pm10": 50, "co": 50, "o3": 50, "pm25": 50}
    # O₃ 1 h 201: 100 + 50·1/100 = 100.5 → 101; NO₂ 1 h 201: 100 + 50·1/500 = 100.1 → 101
    r = hourly_aqi(NEW, {"so2": 10, "no2": 201, "co": 1, "o3": 201, "pm10": 40, "pm25": 20})
    assert (r.aqi, r.primary) == (101, ("no2", "o3"))


@pytest.mark.parametrize(
    "value,name,colour",
    [
        (0, "优", "#00E400"),
        (50, "优", "#00E400"),
        (51, "良", "#FFFF00"),
        (100, "良", "#FFFF00"),
        (101, "轻度污染", "#FF7E00"),
        (150, "轻度污染", "#FF7E00"),
        (151, "中度污染", "#FF0000"),
        (200, "中度污染", "#FF0000"),
        (201, "重度污染", "#99004C"),
        (300, "重度污染", "#99004C"),
        (301, "严重污染", "#7E0023"),
        (500, "严重污染", "#7E0023"),
    ],
)
def test_levels_and_their_colours(value, name, colour):
    level = level_of(value)
    assert (level.name, level.colour) == (name, colour)


def test_appendix_a_rgb():
    assert [lv.rgb for lv in aqi.LEVELS] == [
        (0, 228, 0),
        (255, 255, 0),
        (255, 126, 0),
        (255, 0, 0),
        (153, 0, 76),
        (126, 0, 35),
    ]


def test_negative_or_nan_concentrations_are_refused():
    with pytest.raises(ValueError):
        sub_index(ROWS_2026["pm25_24h"], -1)
    with pytest.raises(ValueError):
        sub_index(ROWS_2026["pm25_24h"], float("nan"))
    with pytest.raises(ValueError):
        daily_aqi(NEW, {"pm25": -0.1})
