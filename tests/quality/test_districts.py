"""The districts' monthly quality figures and ranks (quality.selectors.district_quality), what
the dashboard and the monthly 通报 rank districts on. Hourly values stored straight into the
store in the test's transaction, in July and June 2024: before the demo's year, so only these
stations have data then (the demo's stations are there without figures). Expected values by
hand from HJ 633-2012 (in force in 2024) and GB 3838-2002."""

from __future__ import annotations

import datetime as dt

import pytest
from django.template.loader import render_to_string

from dashboard.report import build_context
from gridgov.errors import InvalidInput
from gridgov.models import AdminArea, Role, User
from quality.selectors import district_quality

from .conftest import local

pytestmark = pytest.mark.django_db

# IAQI (HJ 633-2012, 24 h): PM10 50 → 50, SO₂ 10 → 10, NO₂ 20 → 25, CO 0.5 → 12.5 → 13, O₃ 8 h 60 → 30
CLEAN = {"a34002": 50, "a21026": 10, "a21004": 20, "a21005": 0.5, "a05024": 60}
# class II target river section: NH₃-N 0.8 then 1.4, monthly mean 1.1 → IV (≤ 1.5), the rest II at worst
RIVER = {"w01009": 6.5, "w01019": 3, "w01018": 15, "w01017": 3, "w21011": 0.15}
# a lake all in class I (TP 0.01 is the lakes' class I limit)
LAKE = {"w01009": 8, "w01019": 1.5, "w01018": 10, "w01017": 2, "w21003": 0.1, "w21011": 0.01}
SAMPLES = (0, 4, 8, 12, 16, 20)


def day(when: dt.date, values: dict, hours=range(24)) -> dict:
    return {local(when, h): dict(values) for h in hours}


def test_district_figures_ranks_and_change_from_last_month(station, put_hours):
    a1, a2 = station("air", "330106"), station("air", "330106")
    b1 = station("air", "330110")
    w1 = station("water", "330106", target_class="III")
    w2 = station("water", "330106", target_class="II", water_body="lake")
    put_hours(
        a1, {**day(dt.date(2024, 7, 1), {**CLEAN, "a34004": 40}), **day(dt.date(2024, 7, 2), {**CLEAN, "a34004": 100})}
    )
    put_hours(
        a2, {**day(dt.date(2024, 7, 1), {**CLEAN, "a34004": 80}), **day(dt.date(2024, 7, 2), {**CLEAN, "a34004": 140})}
    )
    put_hours(a1, day(dt.date(2024, 6, 15), {**CLEAN, "a34004": 20}))
    put_hours(
        b1,
        {
            **day(dt.date(2024, 7, 1), {**CLEAN, "a34004": 30}),
            **day(dt.date(2024, 7, 3), {**CLEAN, "a34004": 30}, hours=range(12)),  # 12 hours: no AQI
        },
    )
    put_hours(
        w1,
        {
            **day(dt.date(2024, 7, 1), {**RIVER, "w21003": 0.8}, SAMPLES),
            **day(dt.date(2024, 7, 2), {**RIVER, "w21003": 1.4}, SAMPLES),
        },
    )
    put_hours(w2, day(dt.date(2024, 7, 10), LAKE, SAMPLES))

    rows = {r["code"]: r for r in district_quality(month=dt.date(2024, 7, 20))}
    a, b = rows["330106"], rows["330110"]
    # 西湖区: the district's daily PM2.5 is the mean of its two stations.
    # 07-01: 60 → 50 + 50·25/40 = 81.25 → 82; 07-02: 120 → 150 + 50·5/35 = 157.1 → 158
    assert a["figures"] == {
        "valid_days": 2,
        "mean_aqi": 120.0,
        "good_days": 1,
        "good_day_ratio": 0.5,
        "pm25": 90.0,
        "sections": 2,
        "sections_meeting": 1,  # the lake (I, target II); the river is IV against III
        "sections_ratio": 0.5,
    }
    # 余杭区: 07-01 PM2.5 30 → 42.9 → 43, PM10 50 → 50: AQI 50; 07-03 has 12 hours, no day
    assert b["figures"] == {
        "valid_days": 1,
        "mean_aqi": 50.0,
        "good_days": 1,
        "good_day_ratio": 1.0,
        "pm25": 30.0,
        "sections": 0,
        "sections_meeting": 0,
        "sections_ratio": None,
    }
    # lower AQI and PM2.5, higher ratios first; a district without a figure has no rank on it
    # (the 通报's rule, gridgov/ranking.py), and is listed after the ranked ones
    assert a["ranks"] == {"mean_aqi": 2, "good_day_ratio": 2, "pm25": 2, "sections_ratio": 1}
    assert b["ranks"] == {"mean_aqi": 1, "good_day_ratio": 1, "pm25": 1, "sections_ratio": None}
    # June: 西湖区 one day, PM2.5 20 → 28.6 → 29, PM10 50: AQI 50; 余杭区 nothing
    assert (a["previous"]["mean_aqi"], a["previous"]["valid_days"], b["previous"]["mean_aqi"]) == (50.0, 1, None)
    assert (a["change"]["mean_aqi"], a["change"]["pm25"], b["change"]["mean_aqi"]) == (70.0, 70.0, None)
    assert (a["rank"], a["previous_rank"], a["rank_change"]) == (2, 1, -1)
    # 余杭区 had no AQI in June: unranked then, so no change of rank (no arrow)
    assert (b["rank"], b["previous_rank"], b["rank_change"]) == (1, None, None)
    assert a["month"] == dt.date(2024, 7, 1)
    # the rows come by rank: 余杭区 before 西湖区
    codes = [r["code"] for r in district_quality(month=dt.date(2024, 7, 1))]
    assert codes.index("330110") < codes.index("330106")
    by_sections = [r["code"] for r in district_quality(month=dt.date(2024, 7, 1), order="sections_ratio")]
    assert by_sections.index("330106") < by_sections.index("330110")

    # the monthly 通报 ranks the districts on these figures too (issue 17, Done when)
    city = User.objects.create(username="quality_report_reader", role=Role.CITY_SUPERVISOR)
    city.scope.set(AdminArea.objects.filter(code="330100"))
    context = build_context(user=city, period="2024-07")
    assert [r["code"] for r in context["quality"]][:2] == ["330110", "330106"]
    html = render_to_string("dashboard/_quality.html", context)
    assert html.index("余杭区") < html.index("西湖区")
    assert "50%" in html or "50.0%" in html  # 西湖区's good-day ratio


def test_district_quality_refuses_an_unknown_order(db):
    with pytest.raises(InvalidInput) as caught:
        district_quality(month=dt.date(2024, 7, 1), order="cases")
    assert (caught.value.code, caught.value.field) == ("invalid_choice", "order")
