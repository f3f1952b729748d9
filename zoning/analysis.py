"""Site analysis (智能研判): what does a site touch, which access-list items apply, what verdict.

The verdict comes from an ordered list of rules that a planner can read (GET
/api/zoning/analyze/rules/) and configure in settings as `ZONING_VERDICT_RULES`; the first rule
whose condition holds decides. Conditions:
- `layer`: the site overlaps (or, for a point, lies in) a zone of that layer;
- `category`: the site overlaps a control unit of that category;
- `site_zero_area`: the site has no area (a point) so its footprint is unknown;
- `no_unit`: the site lies outside every control unit;
- `sensitive`: the site touches the red line or a priority-protection unit (zoning/rules.py);
- `forbids_construction`: an access-list item of a unit or zone it touches forbids building;
- `always`: the fallback.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gridgov.db.prepared import prepared_read
from gridgov.errors import InvalidInput

from . import figures, rules
from .models import Category, Dimension, Layer

PASS, RESTRICTED, FAIL, MORE_INFO = "判定通过", "受限准入", "判定不通过", "待补充信息"

DEFAULT_RULES: list[dict] = [
    {
        "id": "red_line",
        "when": {"layer": "red_line"},
        "verdict": FAIL,
        "explain": gettext_lazy("项目选址涉及生态保护红线，原则上不予准入"),
    },
    {
        "id": "priority",
        "when": {"category": "priority"},
        "verdict": RESTRICTED,
        "explain": gettext_lazy("项目选址涉及优先保护单元，须符合其空间布局约束等准入要求"),
    },
    {
        "id": "construction_ban",
        "when": {"forbids_construction": True},
        "verdict": RESTRICTED,
        "explain": gettext_lazy("项目选址所在单元的准入清单有禁止建设的条目，须核实项目是否属于禁止类"),
    },
    {
        "id": "point_only",
        "when": {"site_zero_area": True},
        "verdict": MORE_INFO,
        "explain": gettext_lazy("仅提供点位、无用地范围，请补充项目红线范围"),
    },
    {
        "id": "outside",
        "when": {"no_unit": True},
        "verdict": MORE_INFO,
        "explain": gettext_lazy("选址不在任何管控单元内，请核实位置"),
    },
    {
        "id": "default",
        "when": {"always": True},
        "verdict": PASS,
        "explain": gettext_lazy("未涉及生态保护红线和优先保护单元，按所在单元准入清单执行"),
    },
]

VERDICTS = (PASS, RESTRICTED, FAIL, MORE_INFO)


def verdict_rules() -> list[dict]:
    return getattr(settings, "ZONING_VERDICT_RULES", DEFAULT_RULES)


@dataclass
class Overlap:
    code: str
    name: str
    category: str | None
    layer: str
    area_m2: float
    share_pct: float
    access_list: list


def _holds(key: str, value, *, overlaps: list[Overlap], zero_area: bool) -> bool:
    if key == "layer":
        return any(o.layer == value for o in overlaps)
    if key == "category":
        return any(o.layer == Layer.CONTROL_UNIT and o.category == value for o in overlaps)
    if key == "site_zero_area":
        return bool(value) == zero_area
    if key == "no_unit":
        return bool(value) == (not any(o.layer == Layer.CONTROL_UNIT for o in overlaps))
    if key == "sensitive":
        return bool(value) == rules.is_sensitive(overlaps)
    if key == "forbids_construction":
        return bool(value) == any(rules.construction_bans(o.access_list) for o in overlaps)
    return True  # "always", and keys this version does not know


def decide(*, overlaps: list[Overlap], zero_area: bool) -> tuple[str, dict]:
    for rule in verdict_rules():
        when = rule.get("when", {})
        if all(_holds(k, v, overlaps=overlaps, zero_area=zero_area) for k, v in when.items()):
            return rule["verdict"], rule
    return MORE_INFO, {"id": "none", "explain": _("没有规则适用")}


# Raw SQL: intersection areas against both layers' tables in one round trip. The site is
# parsed once; `&&` + ST_Intersects use the GiST indexes, areas are on the geography (m²).
# One row is the site itself, without a layer: its area, and its GeoJSON in the `access`
# column, computed once rather than on every hit; the hits follow. It runs as a server-side
# prepared statement (gridgov.db.prepared.prepared_read): planned once per connection, where
# Django's client-side binding would re-plan it on every call, and planning this UNION costs
# about as much as executing it for a 1 km² site.
ANALYZE_SQL = """
    WITH site AS MATERIALIZED (SELECT g, ST_Dimension(g) = 2 AS areal FROM (SELECT ST_GeomFromEWKB(%b) AS g) s)
    SELECT NULL::text AS layer, NULL::text AS code, NULL::text AS name, NULL::text AS category,
           ST_AsGeoJSON(site.g, 7) AS access, CASE WHEN site.areal THEN ST_Area(site.g::geography) ELSE 0 END AS area
      FROM site
    UNION ALL
    SELECT 'control_unit', u.code, u.name, u.category, u.access_list::text,
           CASE WHEN site.areal THEN ST_Area(ST_Intersection(u.geom, site.g)::geography) ELSE 0 END
      FROM zoning_controlunit u, site WHERE ST_Intersects(u.geom, site.g)
    UNION ALL
    SELECT z.layer, z.code, z.name, NULL, z.access_list::text,
           CASE WHEN site.areal THEN ST_Area(ST_Intersection(z.geom, site.g)::geography) ELSE 0 END
      FROM zoning_zone z, site WHERE ST_Intersects(z.geom, site.g)
"""

LAYER_ORDER = {"red_line": 0, "control_unit": 1, "water": 2, "air": 3, "soil": 4, "resource": 5}


def site_analyze(geom: GEOSGeometry) -> dict:
    """Analyse a storage-SRID site (point or polygon) against every unit and zone.

    The answer is plain data (JSON as it is, kept with a stored report) with the areas as the
    database computed them, unrounded; `present` turns it into what the API and the pages show.
    """
    gtype = geom.geom_type
    if gtype not in ("Point", "Polygon", "MultiPolygon"):
        raise InvalidInput(
            _("选址范围应为点或面，收到的是 %(type)s。") % {"type": gtype}, code="not_site_type", field="geometry"
        )
    is_point = gtype == "Point"
    if not is_point and not geom.valid:
        raise InvalidInput(
            _("选址范围的几何无效：%(reason)s") % {"reason": geom.valid_reason},
            code="invalid_geometry",
            field="geometry",
        )
    # One round trip, prepared once per connection; EWKB goes over as a binary parameter.
    rows = prepared_read(ANALYZE_SQL, (geom.ewkb,)).fetchall()
    # The site's row is the one without a layer (first in practice; UNION ALL promises no order).
    if rows[0][0] is not None:
        rows.sort(key=lambda r: r[0] is not None)
    site_json, site_area = rows[0][4], float(rows[0][5] or 0.0)
    if not is_point and site_area <= 0.01:
        raise InvalidInput(_("选址范围的面积为零，请检查坐标。"), code="zero_area", field="geometry")
    overlaps = []
    for layer, code, name, category, access, area in rows[1:]:
        area = float(area or 0.0)
        if not is_point and area < 0.01:
            continue  # touching along a boundary only
        overlaps.append(
            Overlap(
                code=code,
                name=name,
                category=category,
                layer=layer,
                area_m2=area,
                share_pct=100.0 * area / site_area if site_area else 0.0,
                access_list=[
                    {
                        "dimension": item["dimension"],
                        "text": item["text"],
                        "forbids_construction": item.get("forbids_construction", False),
                    }
                    for item in json.loads(access or "[]")
                ],
            )
        )
    overlaps.sort(key=lambda o: (LAYER_ORDER.get(o.layer, 9), -o.area_m2, o.code))
    verdict, rule = decide(overlaps=overlaps, zero_area=is_point)
    return {
        "verdict": verdict,
        "site_kind": "point" if is_point else "area",
        "site_area_m2": site_area,
        "overlaps": [o.__dict__ for o in overlaps],
        "red_line_conflict": any(rules.is_red_line(o) for o in overlaps),
        "sensitive": rules.is_sensitive(overlaps),
        "construction_bans": [
            {"code": o.code, "text": text} for o in overlaps for text in rules.construction_bans(o.access_list)
        ],
        "rule": {"id": rule.get("id"), "explain": str(rule.get("explain", ""))},
        "site": json.loads(site_json),
    }


# --- what users see -----------------------------------------------------------------------------

VERDICT_LABELS = {
    PASS: gettext_lazy("判定通过"),
    RESTRICTED: gettext_lazy("受限准入"),
    FAIL: gettext_lazy("判定不通过"),
    MORE_INFO: gettext_lazy("待补充信息"),
}
# Stable keys of the verdicts, for style classes and scripts (the verdicts themselves are words).
VERDICT_KEYS = {PASS: "pass", RESTRICTED: "restricted", FAIL: "fail", MORE_INFO: "more_info"}


def rules_shown() -> list[dict]:
    """The verdict rules as the pages list them: verdict and explanation in the request's language."""
    return [
        {"verdict": str(VERDICT_LABELS.get(r["verdict"], r["verdict"])), "explain": str(r.get("explain", ""))}
        for r in verdict_rules()
    ]


def _explain(rule: dict) -> str:
    """A rule's explanation in the request's language (by id: the rules are code or settings)."""
    for candidate in verdict_rules():
        if candidate.get("id") == rule.get("id"):
            return str(candidate.get("explain", ""))
    return str(rule.get("explain", ""))


def present(result: dict) -> dict:
    """The analysis as the API answers it and the pages show it, in the request's language.

    Numbers are rounded here (areas to 0.1 m², shares to 0.01 %) from the unrounded result,
    and written out once by zoning/figures.py: the page, the HTML report and the PDF show the
    same strings. A point has no area: its units are the ones it lies in (`inside`).
    """
    is_point = result["site_kind"] == "point"
    dimensions = {value: str(label) for value, label in Dimension.choices}
    categories = {value: str(label) for value, label in Category.choices}
    layers = {value: str(label) for value, label in Layer.choices}
    overlaps = []
    for o in result["overlaps"]:
        overlaps.append(
            {
                "code": o["code"],
                "name": o["name"],
                "category": o["category"],
                "category_label": categories.get(o["category"] or "", ""),
                "layer": o["layer"],
                "layer_label": layers.get(o["layer"], ""),
                "area_m2": None if is_point else round(o["area_m2"], 1),
                "share_pct": None if is_point else round(o["share_pct"], 2),
                "area": None if is_point else figures.area(o["area_m2"]),
                "share": None if is_point else figures.share(o["share_pct"]),
                "access_list": [
                    {**item, "dimension_label": dimensions.get(item["dimension"], "")} for item in o["access_list"]
                ],
            }
        )
    return {
        "verdict": result["verdict"],
        "verdict_key": VERDICT_KEYS.get(result["verdict"], "more_info"),
        "verdict_label": str(VERDICT_LABELS.get(result["verdict"], result["verdict"])),
        "site_kind": result["site_kind"],
        "site_area_m2": None if is_point else round(result["site_area_m2"], 1),
        "site_area": None if is_point else figures.area(result["site_area_m2"]),
        "overlaps": overlaps,
        "red_line_conflict": result["red_line_conflict"],
        "sensitive": result["sensitive"],
        "construction_bans": result["construction_bans"],
        "rule": {"id": result["rule"]["id"], "explain": _explain(result["rule"])},
        "site": result["site"],
    }
