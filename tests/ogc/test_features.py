"""OGC API – Features Parts 1–3 over HTTP: parameters, CQL2, datetime as-of, formats, errors, access.

Expected values come from the fixtures (tests/ogc/conftest.py) and the demo (5,000 grid cells,
52 control units dated 2026-01-01 by zoning/demo.py), never from the code under test.
"""

from __future__ import annotations

import csv
import io
import json

import pytest

from gridgov.models import GridCell
from zoning.models import ControlUnit

ITEMS = "/ogc/collections/control-units/items"


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content[:300]
    return [f["id"] for f in response.json()["features"]]


def test_cql2_text_and_json_filter_the_same_rows(api, l_unit, square_unit):
    text = api.get(ITEMS, {"filter": "category = 'general'"})
    as_json = api.get(
        ITEMS,
        {"filter": json.dumps({"op": "=", "args": [{"property": "category"}, "general"]}), "filter-lang": "cql2-json"},
    )
    assert ids(text) == ids(as_json) == ["ZH33010639002"]
    assert text.json()["numberMatched"] == 1


@pytest.mark.parametrize(
    "expression, expected",
    [
        ("category IN ('key', 'general')", ["ZH33010629001", "ZH33010639002"]),
        ("category NOT IN ('key')", ["ZH33010639002"]),
        ("name LIKE 'L%'", ["ZH33010629001"]),
        ("CASEI(name) LIKE CASEI('l 形%')", ["ZH33010629001"]),
        ("version BETWEEN 1 AND 1 AND NOT category = 'key'", ["ZH33010639002"]),
        ("category = 'key' OR code = 'ZH33010639002'", ["ZH33010629001", "ZH33010639002"]),
        ("updated_by IS NULL", []),  # not a queryable for the public: refused below
        ("S_INTERSECTS(geometry, BBOX(120.09, 30.24, 120.11, 30.25))", ["ZH33010639002"]),
        ("S_INTERSECTS(geometry, POINT(120.1 30.232))", ["ZH33010629001"]),
        (
            "S_WITHIN(geometry, POLYGON((120.0 30.2, 120.2 30.2, 120.2 30.3, 120.0 30.3, 120.0 30.2)))",
            ["ZH33010629001", "ZH33010639002"],
        ),
        ("S_DISJOINT(geometry, BBOX(120.09, 30.24, 120.11, 30.25))", ["ZH33010629001"]),
        (
            "valid_from > TIMESTAMP('2020-01-01T00:00:00Z') AND valid_from <= DATE('9000-01-01')",
            ["ZH33010629001", "ZH33010639002"],
        ),
        ("code = code", ["ZH33010629001", "ZH33010639002"]),  # property-property
    ],
)
def test_cql2_text_operators(api, l_unit, square_unit, expression, expected):
    response = api.get(ITEMS, {"filter": expression})
    if "updated_by" in expression:
        assert response.status_code == 400 and response.json()["code"] == "unknown_queryable"
        return
    assert ids(response) == expected


def test_cql2_json_spatial_and_logic(api, l_unit, square_unit):
    flt = {
        "op": "and",
        "args": [
            {
                "op": "s_intersects",
                "args": [{"property": "geometry"}, {"type": "Point", "coordinates": [120.1, 30.245]}],
            },
            {"op": "in", "args": [{"property": "category"}, ["general", "key"]]},
        ],
    }
    assert ids(api.get(ITEMS, {"filter": json.dumps(flt), "filter-lang": "cql2-json"})) == ["ZH33010639002"]


def test_filter_crs_4490_is_latitude_first(api, l_unit, square_unit):
    response = api.get(
        ITEMS,
        {
            "filter": "S_INTERSECTS(geometry, POINT(30.245 120.1))",
            "filter-crs": "http://www.opengis.net/def/crs/EPSG/0/4490",
        },
    )
    assert ids(response) == ["ZH33010639002"]


@pytest.mark.parametrize(
    "params, code",
    [
        ({"filter": "category = 5"}, "filter_type_mismatch"),
        ({"filter": "version > 1e400"}, "invalid_filter"),
        (
            {"filter": '{"op": ">", "args": [{"property": "version"}, 1e400]}', "filter-lang": "cql2-json"},
            "invalid_filter",
        ),
        ({"filter": "category = 'key"}, "invalid_filter"),
        ({"filter": "nope = 'x'"}, "unknown_queryable"),
        ({"filter": "code = 'x'); DROP TABLE zoning_controlunit; --"}, "invalid_filter"),
        ({"filter": "S_INTERSECTS(geometry, POLYGON((0 0, 1 1, 1 0, 0 1, 0 0)))"}, "invalid_filter"),  # bow-tie
        ({"filter": "S_INTERSECTS(geometry, POLYGON((0 0, 1 0, 1 1)))"}, "invalid_filter"),  # ring not closed
        ({"filter": "(" * 60 + "code = 'x'" + ")" * 60}, "invalid_filter"),
        ({"filter": '{"op": "="', "filter-lang": "cql2-json"}, "invalid_filter"),
        ({"filter": '{"op": "t_after", "args": []}', "filter-lang": "cql2-json"}, "unsupported_filter"),
        ({"filter": "code = 'x'", "filter-lang": "sql"}, "invalid_choice"),
        ({"foo": "1"}, "unknown_parameter"),
        ({"limit": "x"}, "invalid"),
        ({"limit": "0"}, "min_value"),
        ({"bbox": "1,2,3"}, "invalid"),
        ({"bbox": "120.2,30.2,120.1,30.3"}, "invalid"),
        ({"sortby": "-nope"}, "unknown_property"),
        ({"properties": "code,nope"}, "unknown_property"),
        ({"datetime": "2026-13-01"}, "invalid"),
        ({"datetime": "../.."}, "invalid"),
        ({"version": "one"}, "invalid"),
        ({"crs": "EPSG:3857"}, "invalid_choice"),
    ],
)
def test_bad_parameters_are_json_400s_naming_the_parameter(api, l_unit, params, code):
    response = api.get(ITEMS, params)
    assert response.status_code == 400, response.content[:200]
    body = response.json()
    assert body["error"] == "invalid" and body["code"] == code, body
    assert body["field"] == (
        "filter-lang" if "filter-lang" in params and code == "invalid_choice" else next(iter(params))
    )
    assert body["message"] and body["description"] == body["message"]
    assert ControlUnit.objects.filter(code="ZH33010629001").exists()


def test_every_ogc_404_is_json(api):
    for path in (
        "/ogc/nope",
        "/ogc/collections/nope",
        "/ogc/collections/nope/items",
        "/ogc/collections/control-units/items/ZH99999999999",
        "/ogc/collections/control-units/tiles/WorldCRS84Quad",
        "/ogc/tileMatrixSets/nope",
    ):
        response = api.get(path)
        assert response.status_code == 404, path
        assert response["Content-Type"].startswith("application/json")
        assert response.json()["error"] == "not_found"


def test_sortby_properties_ids_and_equality_filters(api, l_unit, square_unit):
    page = api.get(ITEMS, {"sortby": "-category", "properties": "code,category"})
    assert ids(page) == ["ZH33010629001", "ZH33010639002"]  # key > general
    assert page.json()["features"][0]["properties"] == {"code": "ZH33010629001", "category": "key"}
    assert ids(api.get(ITEMS, {"sortby": "+category"})) == ["ZH33010639002", "ZH33010629001"]
    assert ids(api.get(ITEMS, {"ids": "ZH33010639002,ZH00000000000"})) == ["ZH33010639002"]
    assert ids(api.get(ITEMS, {"category": "key"})) == ["ZH33010629001"]
    assert ids(api.get(ITEMS, {"version": "1", "synthetic": "false"})) == ["ZH33010629001", "ZH33010639002"]
    empty = api.get(ITEMS, {"properties": ""}).json()
    assert empty["features"][0]["properties"] == {}


def test_paging_counts_and_links(api):
    total = GridCell.objects.count()
    first = api.get("/ogc/collections/grid-cells/items", {"limit": 7, "sortby": "code"}).json()
    assert first["numberMatched"] == total and first["numberReturned"] == 7
    rels = {link["rel"]: link["href"] for link in first["links"]}
    assert "prev" not in rels and "offset=7" in rels["next"]
    second = api.get(rels["next"].replace("http://testserver", "")).json()
    expected = list(GridCell.objects.order_by("code").values_list("code", flat=True)[7:14])
    assert [f["id"] for f in second["features"]] == expected
    assert "prev" in {link["rel"] for link in second["links"]}


def test_datetime_reads_the_unit_as_it_was(api, planner):
    from django.utils import timezone

    from zoning import services

    unit = ControlUnit.objects.order_by("code").first()
    before = timezone.now()
    services.unit_update(
        code=unit.code, name="改名后的单元", base_version=unit.version, reason="测试改名", actor=planner
    )
    now = api.get(f"{ITEMS}/{unit.code}").json()
    then = api.get(f"{ITEMS}/{unit.code}", {"datetime": before.isoformat()}).json()
    assert now["properties"]["name"] == "改名后的单元" and now["properties"]["version"] == unit.version + 1
    assert then["properties"]["name"] == unit.name and then["properties"]["version"] == unit.version
    page = api.get(ITEMS, {"datetime": before.isoformat(), "ids": unit.code}).json()
    assert page["features"][0]["properties"]["name"] == unit.name
    # The demo's units are all dated 2026-01-01: none existed in 2025.
    assert api.get(ITEMS, {"datetime": "2025-06-01T00:00:00+08:00"}).json()["numberMatched"] == 0
    # An interval: each unit once, in its latest version inside it.
    spanning = api.get(ITEMS, {"datetime": f"{before.isoformat()}/..", "ids": unit.code}).json()
    assert [f["properties"]["version"] for f in spanning["features"]] == [unit.version + 1]


def l_unit_author() -> str:
    from gridgov.models import User

    return User.objects.get(username="planner").display_name


def test_private_field_is_for_signed_in_accounts(api, session, l_unit):
    public = api.get(f"{ITEMS}/ZH33010629001").json()
    assert "updated_by" not in public["properties"]
    assert "updated_by" not in api.get("/ogc/collections/control-units/queryables").json()["properties"]
    officer = session("officer")
    staff = officer.get(f"{ITEMS}/ZH33010629001").json()
    assert staff["properties"]["updated_by"] == l_unit_author()
    assert officer.get(ITEMS, {"filter": "updated_by IS NOT NULL"}).json()["numberMatched"] == 1


def test_item_crs_and_content_crs(api, square_unit):
    r = api.get(f"{ITEMS}/ZH33010639002", {"crs": "http://www.opengis.net/def/crs/EPSG/0/4490"})
    assert r["Content-Crs"] == "<http://www.opengis.net/def/crs/EPSG/0/4490>"
    lat, lon = r.json()["geometry"]["coordinates"][0][0][0]
    assert lat == pytest.approx(30.242, abs=1e-5) and lon == pytest.approx(120.095, abs=1e-5)


def test_csv_and_geojson_seq(api, l_unit, square_unit):
    csv_body = api.get(ITEMS, {"f": "csv", "properties": "code,category"})
    assert csv_body["Content-Type"].startswith("text/csv")
    text = b"".join(csv_body.streaming_content if csv_body.streaming else [csv_body.content]).decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["id", "code", "category", "geometry"]
    assert rows[1][:3] == ["ZH33010629001", "ZH33010629001", "key"] and rows[1][3].startswith(
        "MULTIPOLYGON(((120.08 30.23,"
    )
    assert [r[0] for r in rows[1:]] == ["ZH33010629001", "ZH33010639002"]
    seq = api.get(ITEMS, {"f": "geojsonseq"})
    assert seq["Content-Type"] == "application/geo+json-seq"
    records = seq.content.decode().split("\x1e")[1:]
    assert [json.loads(r)["id"] for r in records] == ["ZH33010629001", "ZH33010639002"]


def test_scoped_collection_answers_the_public_as_absent(api, session):
    """A collection with `scope` (cases, enterprises …): signed-in accounts see their jurisdiction."""
    from gridgov.ogc import registry

    cells = registry.COLLECTIONS["grid-cells"]
    scoped = registry.Collection(
        id="test-scoped-cells",
        title="测试",
        description="测试",
        source="gridgov_gridcell t",
        fields=cells.fields,
        scope=registry.ScopeColumns(township="t.township_id"),
    )
    registry.register(scoped)
    try:
        assert api.get("/ogc/collections/test-scoped-cells/items").status_code == 404
        assert "test-scoped-cells" not in [c["id"] for c in api.get("/ogc/collections").json()["collections"]]
        mine = session("township_supervisor").get("/ogc/collections/test-scoped-cells/items", {"limit": 10000}).json()
        expected = GridCell.objects.filter(township__code="330106001").count()
        assert mine["numberMatched"] == expected > 0
        assert {f["properties"]["township"] for f in mine["features"]} == {"330106001"}
        everything = session("city_supervisor").get("/ogc/collections/test-scoped-cells/items").json()
        assert everything["numberMatched"] == GridCell.objects.count()
    finally:
        registry.COLLECTIONS.pop("test-scoped-cells")


def test_cors_and_preflight(api):
    assert api.get("/ogc/collections")["Access-Control-Allow-Origin"] == "*"
    pre = api.options("/ogc/collections/control-units/items", HTTP_ORIGIN="https://example.org")
    assert pre.status_code == 204 and "GET" in pre["Access-Control-Allow-Methods"]
    assert api.post("/ogc/collections").status_code == 405


def test_html_pages_in_chinese(api, square_unit):
    landing = api.get("/ogc/", HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")
    assert landing["Content-Type"].startswith("text/html") and "图层" in landing.content.decode()
    items = api.get(ITEMS, {"f": "html"}).content.decode()
    assert "ZH33010639002" in items and "方形单元（测试）" in items and "管控类别" in items
    item = api.get(f"{ITEMS}/ZH33010639002", {"f": "html"}).content.decode()
    assert "一般管控单元" in item or "general" in item
    english = api.get(ITEMS, {"f": "html"}, HTTP_COOKIE="django_language=en").content.decode()
    assert "Control category" in english
