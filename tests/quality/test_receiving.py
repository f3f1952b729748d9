"""Stations over real HJ 212: hourly packets (2061, ST 22 air / ST 21 water) sent over TCP to the
production receiver, stored in monitoring's partitioned store, read back as AQI and water class.

Expected values are worked out by hand from the tables (HJ 633, GB 3838-2002) in the comments.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.utils import timezone

from dashboard.report import SystemUser, build_context, render_html
from gridgov.models import User
from monitoring.store import add_months
from patrol.models import Issue
from quality.models import OffTargetEpisode, Station
from quality.offtarget import offtarget_judge

from .conftest import local, send_hours

pytestmark = pytest.mark.django_db

DAY_2026 = dt.date(2026, 11, 10)
DAY_2012 = dt.date(2026, 2, 27)  # still HJ 633-2012
# SO₂ 10, NO₂ 30, CO 0.8, O₃ 120 every hour; PM10 100; PM2.5 75 (three hours of a faulty 500 flagged D)
AIR_HOUR = {"a21026": 10, "a21004": 30, "a21005": 0.8, "a05024": 120, "a34002": 100, "a34004": 75}


def air_day(day: dt.date) -> dict:
    hours = {local(day, h): dict(AIR_HOUR) for h in range(24)}
    for h in (3, 4, 5):
        hours[local(day, h)]["a34004"] = (500, "D")
    return hours


def test_air_station_packets_over_tcp_give_the_daily_and_hourly_aqi(committed_station, receiver, api, pg):
    st = committed_station("air")
    rcv = receiver()
    send_hours(rcv.port, st, "22", {**air_day(DAY_2026), **air_day(DAY_2012)})
    stored = pg.execute(
        "SELECT count(*), count(*) FILTER (WHERE flag = 'D') FROM monitoring_reading WHERE logger_id = %s AND period = 'H'",
        [st.logger_id],
    ).fetchone()
    assert stored == (2 * 24 * 6, 2 * 3)

    r = api.get("/api/quality/aqi/", {"station": st.code, "date": "2026-11-10"})
    assert r.status_code == 200, r.content
    body = r.json()
    # HJ 633-2026: PM2.5 75 (21 valid hours): 100 + 50·15/55 = 113.6 → 114; PM10 100: 50 + 50·50/70 = 85.7 → 86;
    # SO₂ 10: 50·10/50 = 10; NO₂ 30: 50·30/40 = 37.5 → 38; CO 0.8: 50·0.8/2 = 20; O₃ 8 h 120: 50 + 50·20/60 → 67
    assert body["iaqi"] == {"so2": 10, "no2": 38, "pm10": 86, "co": 20, "o3_8h": 67, "pm25": 114}
    assert (body["aqi"], body["level"], body["primary"], body["standard"]) == (114, "轻度污染", ["pm25"], "HJ 633-2026")
    assert body["concentrations"]["pm25"] == 75 and body["concentrations"]["o3_8h"] == 120

    # HJ 633-2012 on 2026-02-27: PM2.5 75 is 100; PM10 100: 50 + 50·50/100 = 75
    old = api.get("/api/quality/aqi/", {"station": st.code, "date": "2026-02-27"}).json()
    assert (old["aqi"], old["iaqi"]["pm25"], old["iaqi"]["pm10"], old["standard"]) == (100, 100, 75, "HJ 633-2012")
    assert old["level"] == "良" and old["primary"] == ["pm25"]

    # hourly, 10:00: 1 h rows for SO₂ 10 → 50·10/150 = 3.3 → 4, NO₂ 30 → 15, CO 0.8 → 50·0.8/5 = 8,
    # O₃ 120 → 50·120/160 = 37.5 → 38; PM on the 24 h rows: PM10 86, PM2.5 114
    hour = api.get("/api/quality/aqi/", {"station": st.code, "date": "2026-11-10", "hour": 10}).json()
    assert hour["iaqi"] == {"so2": 4, "no2": 15, "pm10": 86, "co": 8, "o3": 38, "pm25": 114}
    assert (hour["aqi"], hour["primary"]) == (114, ["pm25"])
    # 04:00: the D-flagged PM2.5 is kept out; the others stay ≤ 100, so the hour has no AQI
    flagged = api.get("/api/quality/aqi/", {"station": st.code, "date": "2026-11-10", "hour": 4}).json()
    assert (flagged["aqi"], flagged["level"], flagged["iaqi"]["pm25"]) == ("NA", None, None)


def test_too_few_valid_hours_leave_the_daily_mean_out(committed_station, receiver, api):
    st = committed_station("air")
    hours = air_day(DAY_2026)
    for h in (6, 7):  # five D hours now: 19 valid PM2.5 hours, one short of GB 3095's 20
        hours[local(DAY_2026, h)]["a34004"] = (75, "M")
    send_hours(receiver().port, st, "22", hours)
    body = api.get("/api/quality/aqi/", {"station": st.code, "date": "2026-11-10"}).json()
    # PM2.5 missing and the largest other IAQI is PM10's 86 (≤ 100): not available
    assert (body["aqi"], body["iaqi"]["pm25"], body["concentrations"]["pm25"]) == ("NA", None, None)


# Water section, target III, river; every four hours (six values a day)
GOOD = {"w01009": 6.5, "w01019": 3.5, "w01018": 16, "w01017": 2.8, "w21003": 0.45, "w21011": 0.09}


SAMPLES = (0, 4, 8, 12, 16, 20)


def water_day(day: dt.date, **override) -> dict:
    return {local(day, h): {**GOOD, **override} for h in SAMPLES}


def test_water_section_over_tcp_is_classed_and_off_target_days_open_one_case(committed_station, receiver, api):
    st = committed_station("water", target_class="III", water_body="river")
    days = [dt.date(2026, 11, d) for d in (1, 2, 3, 4, 5)]
    hours = {
        **water_day(days[0], w21003=1.2),  # NH₃-N 1.2: class IV (≤ 1.5), worse than III
        **water_day(days[1], w21003=1.6, w21011=0.25),  # NH₃-N 1.6: V; TP 0.25: IV → V
        # day 3: no data at all (the episode goes on)
        **water_day(days[3]),  # meets III: the episode ends (DO 6.5: II; COD 16: III)
        **water_day(days[4], w01009=2.5),  # DO 2.5: V (≥ 2) → a new episode
    }
    send_hours(receiver().port, st, "21", hours)

    r = api.get("/api/quality/water-class/", {"station": st.code, "date": "2026-11-01"})
    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["class"], body["worst"], body["target"], body["meets_target"]) == ("IV", ["w21003"], "III", False)
    assert body["factors"]["w01018"] == {"value": 16.0, "class": "III"}
    good = api.get("/api/quality/water-class/", {"station": st.code, "date": "2026-11-04"}).json()
    # DO 6.5 II, CODMn 3.5 II, COD 16 III, BOD₅ 2.8 I, NH₃-N 0.45 II, TP 0.09 II → III, meets III
    assert (good["class"], good["worst"], good["meets_target"]) == ("III", ["w01018"], True)
    v = api.get("/api/quality/water-class/", {"station": st.code, "date": "2026-11-02"}).json()
    assert (v["class"], v["worst"]) == ("V", ["w21003"])

    summary = offtarget_judge(days=days, stations=[st])
    assert summary["opened"] == 2 and summary["added"] == 1 and summary["ended"] == 1
    episodes = list(OffTargetEpisode.objects.filter(station=st).order_by("first_day"))
    assert [(e.first_day.day, e.last_day.day, e.days, e.worst_class, e.ended_on) for e in episodes] == [
        (1, 2, 2, "V", dt.date(2026, 11, 4)),
        (5, 5, 1, "V", None),
    ]
    cases = list(Issue.objects.filter(pk__in=[e.issue_id for e in episodes]).order_by("pk"))
    assert len(cases) == 2
    first = cases[0]
    assert first.source == "online_monitoring" and first.category_id == "water.section_off_target"
    assert first.township_id == st.logger.township_id and first.district_id == st.logger.district_id
    assert (
        st.code in first.description and "IV类" in first.description and "氨氮（w21003）1.2 mg/L" in first.description
    )
    notes = list(first.events.filter(action="note").values_list("note", flat=True))
    assert any("新增不达标日 2026-11-02" in n and "累计 2 天" in n for n in notes)

    # judged again (the daily job re-judges recent days): nothing new
    again = offtarget_judge(days=days, stations=[st])
    assert again.get("opened", 0) == 0 and again.get("added", 0) == 0
    assert Issue.objects.filter(category_id="water.section_off_target", description__contains=st.code).count() == 2


# --- Negative values (an instrument artefact, not a concentration) -------------------------------

NEG = -0.1  # what an analyser drifting below its zero sends, flagged N


def negative_air_day(day: dt.date) -> dict:
    """AIR_HOUR with SO₂ at -0.1 every hour (its daily mean would be -0.1) and PM2.5 at -0.1 in
    three hours (its mean over 24 hours would be 65.6 instead of 75 over the 21 others)."""
    hours = {local(day, h): {**AIR_HOUR, "a21026": NEG} for h in range(24)}
    for h in (3, 4, 5):
        hours[local(day, h)]["a34004"] = NEG
    return hours


def test_negative_values_over_tcp_are_left_out_and_no_page_fails(committed_station, receiver, api, client):
    """A negative concentration flagged N (the receiver stores what it was sent) counts as no
    value: out of every mean and hour, and every page and API that reads it answers."""
    air = committed_station("air")
    section = committed_station("water", target_class="III", water_body="river")
    today = timezone.localdate()
    last_month = add_months(today.replace(day=1), -1)
    # the API's day; a day of last month (the cockpit, the 通报 and /quality/ rank it); today's
    # first hour and yesterday's water (the maps colour stations by them)
    air_hours = {**negative_air_day(DAY_2026), **negative_air_day(last_month.replace(day=10))}
    air_hours[local(today, 0)] = {**AIR_HOUR, "a21026": NEG}
    water_hours = {}
    for day in {DAY_2026, last_month.replace(day=10), today - dt.timedelta(days=1)}:
        water_hours.update(water_day(day, w21003=NEG))  # NH₃-N -0.1 in all six: its mean would be -0.1
    send_hours(receiver().port, air, "22", air_hours)
    send_hours(receiver().port, section, "21", water_hours)

    r = api.get("/api/quality/aqi/", {"station": air.code, "date": "2026-11-10"})
    assert r.status_code == 200, r.content
    body = r.json()
    # SO₂ has no valid hour; PM2.5 75 over its 21 valid hours: 100 + 50·15/55 = 113.6 → 114 (with
    # the three -0.1 in, the mean 65.6 would give 106); the others as in the first test
    assert body["iaqi"] == {"so2": None, "no2": 38, "pm10": 86, "co": 20, "o3_8h": 67, "pm25": 114}
    assert (body["aqi"], body["primary"], body["concentrations"]["so2"], body["concentrations"]["pm25"]) == (
        114,
        ["pm25"],
        None,
        75,
    )
    # 04:00: SO₂ and PM2.5 both -0.1, left out; the others stay ≤ 100, so no AQI
    hour = api.get("/api/quality/aqi/", {"station": air.code, "date": "2026-11-10", "hour": 4})
    assert hour.status_code == 200, hour.content
    assert (hour.json()["aqi"], hour.json()["iaqi"]["so2"], hour.json()["iaqi"]["pm25"]) == ("NA", None, None)
    ten = api.get("/api/quality/aqi/", {"station": air.code, "date": "2026-11-10", "hour": 10}).json()
    assert (ten["aqi"], ten["iaqi"]["so2"], ten["iaqi"]["pm25"]) == (114, None, 114)
    # water: NH₃-N has no valid value; the class is the others' (COD 16: III)
    w = api.get("/api/quality/water-class/", {"station": section.code, "date": "2026-11-10"})
    assert w.status_code == 200, w.content
    assert (w.json()["class"], w.json()["worst"], "w21003" in w.json()["factors"]) == ("III", ["w01018"], False)
    series = api.get(
        f"/api/quality/stations/{air.code}/series/", {"interval": "day", "since": "2026-11-10", "until": "2026-11-10"}
    )
    assert series.status_code == 200 and series.json()["rows"][0]["aqi"] == 114

    # the maps: today's hour (SO₂ left out), yesterday's section
    geo = api.get("/api/quality/stations/", {"district": "330106", "limit": 500})
    assert geo.status_code == 200, geo.content
    features = {f["properties"]["code"]: f["properties"]["today"] for f in geo.json()["features"]}
    assert features[air.code]["iaqi"]["so2"] is None and isinstance(features[air.code]["aqi"], int)
    assert features[section.code]["class"] == "III"
    for url in ("/quality/", f"/quality/stations/{air.code}/", f"/quality/stations/{section.code}/"):
        assert client.get(url).status_code == 200, url
    client.force_login(User.objects.get(username="city_supervisor"))
    assert client.get("/dashboard/").status_code == 200
    html = render_html(user=SystemUser(), period=f"{last_month:%Y-%m}")
    assert 'data-district="330106"' in html

    # the daily job judges the section's day (III meets III) instead of failing on it
    assert offtarget_judge(days=[DAY_2026], stations=[section]) == {"nothing": 1}


def test_a_section_that_cannot_be_classed_does_not_stop_the_others(station, put_hours):
    """offtarget_judge: each section on its own. A NaN row (the receiver refuses NaN, the store
    itself does not) makes one section's class fail; the other section is judged all the same."""
    broken = station("water", target_class="III")
    fine = station("water", target_class="III")
    day = dt.date(2024, 7, 1)
    put_hours(broken, {local(day, h): {**GOOD, "w21003": float("nan")} for h in SAMPLES})
    put_hours(fine, {local(day, h): {**GOOD, "w21003": 1.2} for h in SAMPLES})  # NH₃-N 1.2: IV, off target
    summary = offtarget_judge(days=[day], stations=[broken, fine])
    assert summary == {"failed": 1, "opened": 1}
    assert not OffTargetEpisode.objects.filter(station=broken).exists()
    assert OffTargetEpisode.objects.get(station=fine).worst_class == "IV"


# --- Done when: the 通报 for last month ranks the districts on quality from HJ 212 data ----------

# Every hour of a day the same, so each 24 h mean and the O₃ 8 h maximum are these values.
# IAQI (the same in HJ 633-2012 and -2026 at these values): SO₂ 10 → 10, NO₂ 30 → 37.5 → 38,
# CO 0.8 → 20, PM10 40 → 40, PM2.5 30 → 50·30/35 = 42.9 → 43; O₃ 8 h per day below.
REPORT_AIR = {"a21026": 10, "a21004": 30, "a21005": 0.8, "a34002": 40, "a34004": 30}
# O₃ 120 → 50 + 50·20/60 = 66.7 → AQI 67 (良); 200 → 100 + 50·40/55 = 136.4 → 137 (轻度污染);
# 80 → 40, so the AQI is PM2.5's 43 (优)
REPORT_O3 = (120, 200, 80)
# NH₃-N by day: 0.45 (II: the day is III by COD 16), 1.2 (IV), 1.6 (V); the month's mean 1.083 is
# IV (≤ 1.5), worse than the target III
REPORT_NH3 = (0.45, 1.2, 1.6)


def test_last_months_report_ranks_the_district_on_what_arrived_over_hj212(committed_station, receiver, pg):
    air = committed_station("air", "330106")
    section = committed_station("water", "330106", target_class="III", water_body="river")
    period_start = add_months(timezone.localdate().replace(day=1), -1)
    days = [period_start.replace(day=d) for d in (10, 11, 12)]
    air_hours, water_hours = {}, {}
    for day, o3, nh3 in zip(days, REPORT_O3, REPORT_NH3, strict=True):
        air_hours.update({local(day, h): {**REPORT_AIR, "a05024": o3} for h in range(24)})
        water_hours.update(water_day(day, w21003=nh3))
    rcv = receiver()
    send_hours(rcv.port, air, "22", air_hours)
    send_hours(rcv.port, section, "21", water_hours)

    # the daily job: day 1 meets the target, day 2 opens a case for the section's township, day 3 adds to it
    assert offtarget_judge(days=days, stations=[section]) == {"nothing": 1, "opened": 1, "added": 1}
    episode = OffTargetEpisode.objects.select_related("issue").get(station=section)
    assert (episode.first_day, episode.days, episode.worst_class) == (days[1], 2, "V")
    assert episode.issue.township_id == section.logger.township_id and episode.issue.source == "online_monitoring"

    # The demo's stations of 西湖区 were in maintenance (flag M) all last month, in this test's
    # transaction only, so the district's figures are those of the packets above alone.
    others = list(
        Station.objects.filter(logger__district__code="330106")
        .exclude(pk__in=[air.pk, section.pk])
        .values_list("logger_id", flat=True)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE monitoring_reading SET flag = 'M' WHERE logger_id = ANY(%s) AND period = 'H' "
            "AND time >= %s AND time < %s",
            [others, local(period_start), local(add_months(period_start, 1))],
        )

    context = build_context(user=SystemUser(), period=f"{period_start:%Y-%m}")
    row = next(r for r in context["quality"] if r["code"] == "330106")
    # AQI 67, 137, 43: mean 82.33 → 82.3; two days ≤ 100 of three; PM2.5 30 every day
    assert row["figures"] == {
        "valid_days": 3,
        "mean_aqi": 82.3,
        "good_days": 2,
        "good_day_ratio": 0.6667,
        "pm25": 30.0,
        "sections": 1,
        "sections_meeting": 0,  # the month's class IV against the target III
        "sections_ratio": 0.0,
    }
    assert row["rank"] == row["ranks"]["mean_aqi"] and row["rank"] is not None
    assert len(context["quality"]) == 13 and context["ranking"]  # beside the case ranking
    html = render_to_string("dashboard/monthly_report.html", context)
    cells = re.search(r'<tr data-district="330106">(.*?)</tr>', html, re.S).group(1)
    assert "82.3" in cells and "66.7%" in cells and "(2/3)" in cells and "0/1" in cells
    assert html.index('data-testid="ranking"') < html.index('data-district="330106"') < html.index("三、空间分布")
