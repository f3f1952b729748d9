"""Stations over real HJ 212: hourly packets (2061, ST 22 air / ST 21 water) sent over TCP to the
production receiver, stored in monitoring's partitioned store, read back as AQI and water class.

Expected values are worked out by hand from the tables (HJ 633, GB 3838-2002) in the comments.
"""

from __future__ import annotations

import datetime as dt

import pytest

from patrol.models import Issue
from quality.models import OffTargetEpisode
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


def water_day(day: dt.date, **override) -> dict:
    return {local(day, h): {**GOOD, **override} for h in (0, 4, 8, 12, 16, 20)}


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
