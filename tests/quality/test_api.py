"""The quality API's contracts (issue 17) and its answers to bad input, over HTTP, with the
database state they leave. Hourly values are stored straight into monitoring's store in the
test's transaction (test_receiving.py sends them over TCP); expected values by hand."""

from __future__ import annotations

import datetime as dt

import pytest

from monitoring.models import Logger, LoggerKind
from quality.models import Station, StationEvent

from .conftest import local, unique

pytestmark = pytest.mark.django_db

CALC = "/api/quality/aqi/calc/"


# --- Registering stations -------------------------------------------------------------------------


def station_body(inside, **extra) -> dict:
    return {
        "code": unique("S"),
        "name": "西湖测试空气站（合成）",
        "kind": "air",
        **inside("330106"),
        "mn": unique("MN"),
        "password": "pw-2017",
        **extra,
    }


def test_a_district_supervisor_registers_an_air_station(user_api, inside):
    body = station_body(inside)
    r = user_api("district_supervisor").post("/api/quality/stations/", body, format="json")
    assert r.status_code == 201, r.content
    out = r.json()
    assert out["code"] == body["code"] and out["kind"] == "air" and out["mn"] == body["mn"]
    assert out["district"]["code"] == "330106" and out["township"]["code"].startswith("330106")
    assert out["target_class"] is None and "password" not in out
    station = Station.objects.select_related("logger").get(code=body["code"])
    assert station.logger.kind == LoggerKind.STATION and station.logger.password == "pw-2017"
    assert station.logger.mn == body["mn"] and station.logger.district.code == "330106"
    event = StationEvent.objects.get(station_id=station.pk)
    assert event.action == "register" and event.actor.username == "district_supervisor"


def test_a_water_section_keeps_its_target_and_water_body(user_api, inside):
    body = station_body(inside, kind="water", target_class="II", water_body="lake")
    r = user_api("city_supervisor").post("/api/quality/stations/", body, format="json")
    assert r.status_code == 201, r.content
    assert (r.json()["target_class"], r.json()["water_body"]) == ("II", "lake")
    plain = station_body(inside, kind="water", target_class="III")
    assert user_api("city_supervisor").post("/api/quality/stations/", plain, format="json").status_code == 201
    assert Station.objects.get(code=plain["code"]).water_body == "river"  # a river unless said


@pytest.mark.parametrize(
    "change,field,code,label",
    [
        ({"code": None}, "code", "required", "站点编码"),
        ({"code": "西湖 1"}, "code", "invalid", "站点编码"),
        ({"kind": "soil"}, "kind", "invalid_choice", "站点类型"),
        ({"lat": "north"}, "lat", "invalid", "纬度"),
        ({"lat": 40.0, "lon": 116.4}, "lat", "outside_city", ""),
        ({"mn": "A;B"}, "mn", "invalid", "设备唯一标识 MN"),
        ({"target_class": "VI", "kind": "water"}, "target_class", "invalid_choice", "水质目标"),
        ({"target_class": "III"}, "target_class", "target_for_air", ""),
        ({"water_body": "lake"}, "water_body", "water_body_for_air", ""),
    ],
)
def test_bad_station_input_is_a_400_naming_the_field(user_api, inside, change, field, code, label):
    body = {k: v for k, v in {**station_body(inside), **change}.items() if v is not None}
    r = user_api("city_supervisor").post("/api/quality/stations/", body, format="json")
    assert r.status_code == 400, r.content
    err = r.json()
    assert (err["error"], err["field"], err["code"]) == ("invalid", field, code)
    assert label in err["message"]
    assert not Station.objects.filter(code=body.get("code", "")).exists()
    assert not Logger.objects.filter(mn=body["mn"]).exists()  # nothing half-written


def test_a_taken_code_or_mn_is_a_409(user_api, inside):
    client = user_api("city_supervisor")
    first = station_body(inside)
    assert client.post("/api/quality/stations/", first, format="json").status_code == 201
    same_code = client.post("/api/quality/stations/", {**station_body(inside), "code": first["code"]}, format="json")
    assert (same_code.status_code, same_code.json()["field"]) == (409, "code")
    same_mn = client.post("/api/quality/stations/", {**station_body(inside), "mn": first["mn"]}, format="json")
    assert (same_mn.status_code, same_mn.json()["field"]) == (409, "mn")


# --- The calculator -----------------------------------------------------------------------------


def test_calc_gives_the_contract_fields(api):
    r = api.get(CALC, {"pm25": 75, "date": "2026-03-01"})
    assert r.status_code == 200, r.content
    body = r.json()
    assert set(body) >= {"aqi", "level", "primary", "iaqi", "standard"}
    # PM2.5 alone: 100 + 50·15/55 → 114, above 100, so the missing five do not matter
    assert (body["aqi"], body["level"], body["primary"], body["standard"]) == (114, "轻度污染", ["pm25"], "HJ 633-2026")
    assert body["iaqi"] == {"so2": None, "no2": None, "pm10": None, "co": None, "o3_8h": None, "pm25": 114}
    # the day before, by HJ 633-2012, 75 is exactly 100: not above it, so no AQI without the others
    old = api.get(CALC, {"pm25": 75, "date": "2026-02-28"}).json()
    assert (old["aqi"], old["level"], old["standard"], old["iaqi"]["pm25"]) == ("NA", None, "HJ 633-2012", 100)


def test_calc_of_all_six_at_the_first_breakpoint(api):
    body = api.get(CALC, {"pm25": 35, "pm10": 50, "so2": 50, "no2": 40, "co": 2, "o3_8h": 100, "date": "2026-05-01"})
    body = body.json()
    assert (body["aqi"], body["level"], body["primary"], body["color"]) == (50, "优", [], "#00E400")


def test_calc_2012_o3_8h_above_800_uses_o3_1h(api):
    q = {"pm25": 20, "pm10": 30, "so2": 5, "no2": 20, "co": 0.5, "o3_8h": 850, "date": "2026-01-15"}
    assert api.get(CALC, {**q, "o3_1h": 850}).json()["aqi"] == 325  # 300 + 100·50/200
    assert api.get(CALC, q).json()["aqi"] == "NA"  # no 1 h value: O₃ missing, the rest ≤ 100
    assert api.get(CALC, {**q, "date": "2026-03-01"}).json()["aqi"] == 300  # HJ 633-2026: 300


@pytest.mark.parametrize(
    "query,field,label",
    [
        ({"pm25": -1}, "pm25", "PM2.5"),
        ({"so2": "abc"}, "so2", "二氧化硫"),
        ({"pm10": "nan"}, "pm10", "PM10"),
        ({"pm25": 30, "date": "2026-02-30"}, "date", "日期"),
    ],
)
def test_calc_bad_input_is_a_400_naming_the_field(api, query, field, label):
    r = api.get(CALC, query)
    assert r.status_code == 400, r.content
    assert (r.json()["field"], r.json()["error"]) == (field, "invalid")
    assert label in r.json()["message"]


def test_calc_needs_a_concentration(api):
    r = api.get(CALC, {"date": "2026-05-01"})
    assert (r.status_code, r.json()["code"], r.json()["field"]) == (400, "required", None)


def test_calc_errors_in_english(api):
    # Chinese for everyone by default; English through the language switch (its cookie)
    assert api.get(CALC, {"so2": "abc"}).json()["message"] == "二氧化硫：请填写合法的数字。"
    assert api.post("/i18n/setlang/", {"language": "en", "next": "/"}).status_code == 302
    r = api.get(CALC, {"so2": "abc"})
    assert (r.status_code, r.json()["message"]) == (400, "SO₂: A valid number is required.")


# --- A station's AQI -----------------------------------------------------------------------------

TIE = {"a34004": 60, "a34002": 120, "a21026": 50, "a21004": 40, "a21005": 2, "a05024": 100}


def day_of(day: dt.date, values: dict, hours=range(24)) -> dict:
    return {local(day, h): dict(values) for h in hours}


def test_station_aqi_on_both_sides_of_the_switch(api, station, put_hours):
    st = station("air")
    put_hours(st, {**day_of(dt.date(2026, 3, 1), TIE), **day_of(dt.date(2026, 2, 28), TIE)})
    new = api.get("/api/quality/aqi/", {"station": st.code, "date": "2026-03-01"}).json()
    # 2026: PM2.5 60 and PM10 120 are both the 100 breakpoints; the rest at 50
    assert new["iaqi"] == {"so2": 50, "no2": 50, "pm10": 100, "co": 50, "o3_8h": 50, "pm25": 100}
    assert (new["aqi"], new["level"], new["primary"], new["standard"]) == (100, "良", ["pm10", "pm25"], "HJ 633-2026")
    old = api.get("/api/quality/aqi/", {"station": st.code, "date": "2026-02-28"}).json()
    # 2012: PM2.5 60 → 50 + 50·25/40 = 81.25 → 82; PM10 120 → 50 + 50·70/100 = 85
    assert (old["iaqi"]["pm25"], old["iaqi"]["pm10"]) == (82, 85)
    assert (old["aqi"], old["primary"], old["standard"]) == (85, ["pm10"], "HJ 633-2012")


def test_station_o3_and_so2_above_800(api, station, put_hours):
    st = station("air")
    low = {"a34004": 20, "a34002": 30, "a21026": 5, "a21004": 20, "a21005": 0.5}
    put_hours(
        st,
        {
            **day_of(dt.date(2026, 1, 20), {**low, "a05024": 850}),  # O₃ 8 h 850, 1 h max 850
            **day_of(dt.date(2026, 6, 20), {**low, "a05024": 850}),
            # SO₂ 1 h 900 all day (the day before has no data)
            **day_of(dt.date(2026, 1, 23), {**low, "a05024": 60, "a21026": 900}),
            **day_of(dt.date(2026, 6, 23), {**low, "a05024": 60, "a21026": 900}),
        },
    )
    aqi = lambda **q: api.get("/api/quality/aqi/", {"station": st.code, **q}).json()  # noqa: E731
    assert aqi(date="2026-01-20")["iaqi"]["o3_8h"] == 325  # HJ 633-2012: by the 1 h value, 300 + 100·50/200
    assert aqi(date="2026-06-20")["iaqi"]["o3_8h"] == 300  # HJ 633-2026: counts as 300
    # hourly SO₂ 900 at 23:00 (2012): its 24 h moving average, 900, on the 24 h row: 200 + 100·100/800 = 212.5 → 213
    late = aqi(date="2026-01-23", hour=23)
    assert (late["iaqi"]["so2"], late["aqi"], late["primary"]) == (213, 213, ["so2"])
    # at 10:00 only 11 hours of the day are in its 24 h window (fewer than 20): SO₂ has no index, the rest ≤ 100
    assert aqi(date="2026-01-23", hour=10)["aqi"] == "NA"
    assert aqi(date="2026-06-23", hour=10)["iaqi"]["so2"] == 200  # 2026: above 800 counts as 200


@pytest.mark.parametrize(
    "query,status,field,code",
    [
        ({"station": "NOPE404", "date": "2026-03-01"}, 404, "station", "station_not_found"),
        ({"date": "2026-03-01"}, 400, "station", "required"),
        ({"station": "{st}", "date": "2026-13-01"}, 400, "date", "invalid"),
        ({"station": "{st}", "date": "2025-06-01"}, 404, "date", "no_data"),
        ({"station": "{st}", "date": "2026-03-01", "hour": 24}, 400, "hour", "max_value"),
        ({"station": "{st}", "date": "2026-03-01", "hour": "noon"}, 400, "hour", "invalid"),
        ({"station": "{water}", "date": "2026-03-01"}, 400, "station", "wrong_station_kind"),
    ],
)
def test_station_aqi_bad_input(api, station, put_hours, query, status, field, code):
    st, water = station("air"), station("water", target_class="III")
    put_hours(st, day_of(dt.date(2026, 3, 1), TIE, hours=range(12)))
    q = {k: v.format(st=st.code, water=water.code) if isinstance(v, str) else v for k, v in query.items()}
    r = api.get("/api/quality/aqi/", q)
    assert r.status_code == status, r.content
    assert (r.json()["field"], r.json()["code"]) == (field, code)


def test_hour_without_data_is_a_404_naming_the_hour(api, station, put_hours):
    st = station("air")
    put_hours(st, day_of(dt.date(2026, 3, 1), TIE, hours=range(12)))
    r = api.get("/api/quality/aqi/", {"station": st.code, "date": "2026-03-01", "hour": 15})
    assert (r.status_code, r.json()["field"], r.json()["code"]) == (404, "hour", "no_data")
    # and a day with 12 hours only: its daily AQI is not available (fewer than 20 hours)
    assert api.get("/api/quality/aqi/", {"station": st.code, "date": "2026-03-01"}).json()["aqi"] == "NA"


# --- A section's class ---------------------------------------------------------------------------

LAKE = {"w01009": 7.6, "w01019": 1.8, "w01018": 12, "w01017": 2.0, "w21003": 0.12, "w21011": 0.03}


def test_water_class_of_a_lake_with_a_flagged_value_left_out(api, station, put_hours):
    st = station("water", target_class="II", water_body="lake")
    hours = {local(dt.date(2026, 10, 8), h): dict(LAKE) for h in (0, 4, 8, 12, 16, 20)}
    hours[local(dt.date(2026, 10, 8), 8)]["w21003"] = (3.0, "C")  # calibrating: out of the mean
    put_hours(st, hours)
    body = api.get("/api/quality/water-class/", {"station": st.code, "date": "2026-10-08"}).json()
    # all class I except TP 0.03 in a lake: ≤ 0.05 is III (0.025 is II) → III, worse than the II target
    assert (body["class"], body["worst"], body["target"], body["meets_target"]) == ("III", ["w21011"], "II", False)
    assert body["factors"]["w21003"] == {"value": 0.12, "class": "I"}
    assert body["standard"] == "GB 3838-2002" and body["water_body"] == "lake"


def test_water_class_bad_input(api, station):
    air, water = station("air"), station("water")
    r = api.get("/api/quality/water-class/", {"station": air.code, "date": "2026-10-08"})
    assert (r.status_code, r.json()["field"]) == (400, "station")
    r = api.get("/api/quality/water-class/", {"station": water.code, "date": "2026-10-08"})
    assert (r.status_code, r.json()["field"], r.json()["code"]) == (404, "date", "no_data")
    r = api.get("/api/quality/water-class/", {"station": water.code, "date": "yesterday"})
    assert (r.status_code, r.json()["field"]) == (400, "date")


# --- Series and the map's GeoJSON ----------------------------------------------------------------


def test_series_by_hour_and_day_and_its_bad_input(api, station, put_hours):
    st = station("air")
    put_hours(st, day_of(dt.date(2026, 3, 1), TIE))
    url = f"/api/quality/stations/{st.code}/series/"
    days = api.get(url, {"interval": "day", "since": "2026-02-25", "until": "2026-03-03"}).json()
    assert [(r["date"], r["aqi"]) for r in days["rows"]] == [("2026-03-01", 100)]
    hours = api.get(url, {"interval": "hour", "since": "2026-03-01", "until": "2026-03-01"}).json()["rows"]
    assert len(hours) == 24 and hours[0]["iaqi"]["pm25"] == 100 and hours[0]["standard"] == "HJ 633-2026"
    assert "mn" not in days["station"]
    for q, field in [
        ({"interval": "week", "since": "2026-03-01", "until": "2026-03-01"}, "interval"),
        ({"interval": "day", "since": "2026-03-05", "until": "2026-03-01"}, "until"),
        ({"interval": "hour", "since": "2026-01-01", "until": "2026-03-01"}, "since"),
    ]:
        r = api.get(url, q)
        assert (r.status_code, r.json()["field"]) == (400, field), q
    assert api.get("/api/quality/stations/NOPE/series/", {"interval": "day"}).status_code == 404


def test_stations_geojson_has_public_fields_and_todays_aqi(api, station, put_hours):
    from django.utils import timezone

    st = station("air")
    now = timezone.localtime()
    put_hours(st, {now.replace(minute=0, second=0, microsecond=0): dict(TIE)})
    r = api.get("/api/quality/stations/", {"kind": "air", "limit": 1000})
    assert r.status_code == 200 and r.json()["type"] == "FeatureCollection"
    mine = [f for f in r.json()["features"] if f["properties"]["code"] == st.code]
    assert len(mine) == 1
    props = mine[0]["properties"]
    assert "mn" not in props and "password" not in props and props["district"] == "330106"
    # that hour: 1 h rows for SO₂ 50 (17), NO₂ 40 (20), CO 2 (20), O₃ 100 (32); PM2.5 60 and PM10 120 at 100
    assert (props["today"]["aqi"], props["today"]["primary"]) == (100, ["pm10", "pm25"])
    assert all(f["properties"]["kind"] == "air" for f in r.json()["features"])
    assert api.get("/api/quality/stations/", {"kind": "soil"}).json()["field"] == "kind"
    ogc = api.get("/ogc/collections/quality-stations/items", {"limit": 1000}).json()
    feature = next(f for f in ogc["features"] if f["properties"]["code"] == st.code)
    assert "mn" not in feature["properties"] and feature["geometry"]["type"] == "Point"


@pytest.mark.parametrize("month", ["2026-13", "26-01", "2026-1x"])
def test_the_overview_answers_a_wrong_month_with_a_page_saying_so(client, month):
    r = client.get("/quality/", {"month": month})
    assert r.status_code == 400
    page = r.content.decode()
    assert "统计月份应为 YYYY-MM" in page and 'data-testid="error-page"' in page
    assert "Traceback" not in page and "InvalidInput" not in page
    assert client.get("/quality/", {"month": "2024-07"}).status_code == 200
