"""Site analysis as people read it: labels, 公顷/亩, one rounding for screen and report, points,
and the report's bookmarkable link."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from zoning import figures, services
from zoning.models import SiteReport

from .conftest import X0, Y0, square
from .test_edits import geodesic_m2

ANALYZE = "/api/zoning/analyze/"
REPORT = "/zoning/analyze/report/"


@pytest.fixture
def site_units(make_unit, planner):
    make_unit("ZH33010619001", name="优先单元")
    make_unit("ZH33010639001", x=X0 + 0.01, name="一般单元")


def test_figures_round_once_with_separators():
    # 1 公顷 = 10,000 m² = 15 亩 (市制).
    assert figures.area(10_000) == {
        "m2": "10,000",
        "ha": "1.00",
        "mu": "15.00",
        "text": "10,000 m²（1.00 公顷，15.00 亩）",
    }
    # 12,345.678 m² = 1.2345678 ha = 18.518517 亩
    assert figures.area(12_345.678) == {
        "m2": "12,346",
        "ha": "1.23",
        "mu": "18.52",
        "text": "12,346 m²（1.23 公顷，18.52 亩）",
    }
    assert figures.area(2.04)["m2"] == "2.0" and figures.area(2.04)["ha"] == "<0.01"
    assert figures.share(45.26) == "45.3%" and figures.share(0.01) == "<0.1%" and figures.share(100) == "100.0%"
    assert figures.hectares(42_640.0) == "4.26 公顷"


def test_a_polygon_shows_labels_hectares_and_mu(site_units, api):
    # Straddles the priority and the general unit: 0.001° in each.
    site = square(X0 + 0.009, Y0 + 0.001, 0.002)
    r = api.post(ANALYZE, {"geometry": json.loads(site.json), "crs": "wgs84"}, format="json").json()
    assert (r["verdict"], r["verdict_key"], r["verdict_label"], r["site_kind"]) == (
        "受限准入",
        "restricted",
        "受限准入",
        "area",
    )
    expected = geodesic_m2(X0 + 0.009, Y0 + 0.001, X0 + 0.011, Y0 + 0.003)
    assert r["site_area_m2"] == pytest.approx(expected, rel=1e-3)
    assert r["site_area"] == figures.area(r["site_area_m2"])  # 0.1 m² apart at most: same strings here
    by_code = {o["code"]: o for o in r["overlaps"]}
    priority = by_code["ZH33010619001"]
    assert (priority["category_label"], priority["layer_label"]) == ("优先保护单元", "环境管控单元")
    assert priority["area"]["text"].endswith("亩）") and "公顷" in priority["area"]["text"]
    assert re.fullmatch(r"[0-9]{1,3}(,[0-9]{3})*", priority["area"]["m2"])
    assert priority["share"] == "50.0%"
    assert "priority" not in json.dumps([o["category_label"] for o in r["overlaps"]])


def test_a_point_has_no_area_only_the_units_it_lies_in(site_units, api):
    point = {"type": "Point", "coordinates": [X0 + 0.015, Y0 + 0.005]}
    r = api.post(ANALYZE, {"geometry": point, "crs": "wgs84"}, format="json").json()
    assert r["site_kind"] == "point" and r["site_area_m2"] is None and r["site_area"] is None
    assert [(o["code"], o["area_m2"], o["share_pct"], o["area"], o["share"]) for o in r["overlaps"]] == [
        ("ZH33010639001", None, None, None, None)
    ]
    page = Client().post(REPORT, {"geometry": json.dumps(point), "format": "html"}).content.decode()
    assert "选址为点位，无用地范围" in page and "位于其内" in page
    assert "0 m²" not in page and "0.0%" not in page


def report_rows(page: str) -> dict[str, list[str]]:
    """Cells of the report's overlap table by unit code."""
    rows = re.findall(r'<tr data-code="([^"]+)">(.*?)</tr>', page, flags=re.S)
    return {code: re.findall(r"<td[^>]*>(.*?)</td>", cells) for code, cells in rows}


def test_screen_and_report_show_the_same_figures(site_units, api):
    site = square(X0 + 0.0093, Y0 + 0.0011, 0.0021)
    geometry = json.loads(site.json)
    screen = api.post(ANALYZE, {"geometry": geometry, "crs": "wgs84"}, format="json").json()
    page = Client().post(REPORT, {"geometry": json.dumps(geometry), "format": "html"}).content.decode()
    rows = report_rows(page)
    for o in screen["overlaps"]:
        assert rows[o["code"]][4:] == [o["area"]["m2"], o["area"]["ha"], o["area"]["mu"], o["share"]]
    assert screen["site_area"]["text"] in page


def test_the_report_has_a_link_that_opens_it_again(site_units, planner):
    geometry = json.dumps(json.loads(square(X0 + 0.009, Y0 + 0.001, 0.002).json))
    client = Client()
    # The analysis page's browser test may have committed reports; none of them is "测试项目".
    kept = SiteReport.objects.all
    first = client.post(REPORT, {"geometry": geometry, "format": "html", "project": "测试项目"}).content.decode()
    token = kept().get(project="测试项目").token
    link = f"{REPORT}?id={token}"
    assert f'href="{link}"' in first and "history.replaceState" in first
    again = Client().get(link)  # another client: the link alone is enough
    assert again.status_code == 200
    page = again.content.decode()
    assert report_rows(page) == report_rows(first) and "测试项目" in page and token in page
    assert "data:image/png;base64," in page
    pdf = Client().get(link + "&format=pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    # The same site and project with the same zoning data: the same report, not a new row.
    client.post(REPORT, {"geometry": geometry, "format": "html", "project": "测试项目"})
    assert kept().filter(project="测试项目").count() == 1
    # After an edit the analysis is made again (the old link keeps what it found then).
    services.unit_update(code="ZH33010639001", base_version=1, name="一般单元（改名）", reason="更名", actor=planner)
    client.post(REPORT, {"geometry": geometry, "format": "html", "project": "测试项目"})
    assert kept().filter(project="测试项目").count() == 2
    assert "一般单元（改名）" not in Client().get(link).content.decode()


def test_a_report_link_that_is_wrong_gets_a_page(db):
    r = Client().get(REPORT, {"id": "A" * 22})
    assert (
        r.status_code == 404 and "没有这份研判报告" in r.content.decode() and r["Content-Type"].startswith("text/html")
    )
    r = Client().get(REPORT, {"id": "../../etc/passwd"})
    assert r.status_code == 400 and 'data-testid="error-page"' in r.content.decode()
    assert "/etc/passwd" not in r.content.decode()
    r = Client().post(REPORT, {"geometry": "{", "crs": "wgs84"})
    assert r.status_code == 400 and "选址范围" in r.content.decode()


def test_keeping_reports_is_rate_limited(site_units, settings):
    from .test_upload_security import rates

    rates(settings, zoning_report="1/hour")
    client = Client()
    form = {"geometry": json.dumps(json.loads(square(X0 + 0.009, Y0 + 0.001, 0.002).json)), "format": "html"}
    earlier = list(SiteReport.objects.values_list("pk", flat=True))  # committed by the browser tests, if any
    assert client.post(REPORT, form).status_code == 200
    r = client.post(REPORT, {**form, "project": "另一个"})
    mine = SiteReport.objects.exclude(pk__in=earlier)
    assert r.status_code == 429 and int(r["Retry-After"]) > 0 and mine.count() == 1
    token = mine.get().token
    assert client.get(REPORT, {"id": token}).status_code == 200  # reading a kept one is not limited
