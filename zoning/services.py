"""Writes of the zoning app: every change of a unit or zone, with its immutable version.

Each service checks the actor's right, validates the geometry (valid, inside the city, no
overlap inside its layer), saves with `full_clean()`, closes the previous version and writes
the new one, all in one transaction. Saves carry the version they were based on; a stale base
is refused with a 409 naming who changed the unit and when (never last-write-wins).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon, Polygon
from django.db import connection, transaction
from django.utils import timezone

from gridgov import coords
from gridgov.errors import Conflict, Forbidden, InvalidInput, NotFound
from gridgov.models import AdminArea, AreaLevel, Role

from .models import (
    DIGIT_CATEGORY,
    Action,
    Category,
    ControlUnit,
    Layer,
    Zone,
    ZoningVersion,
    unit_code_validator,
    validate_access_list,
)

# Slivers below this are numerical noise from clipping along shared boundaries, not overlaps.
OVERLAP_TOLERANCE_M2 = 1.0
OUTSIDE_CITY_TOLERANCE_M2 = 1.0


class GeometryInvalid(InvalidInput):
    kind = "invalid_geometry"


class OverlapError(InvalidInput):
    kind = "overlap"


def can_edit(user) -> bool:
    """Planners and superusers edit zoning; everyone else reads."""
    return bool(user and user.is_authenticated and (user.is_superuser or user.role == Role.ZONING_PLANNER))


def _require_editor(actor) -> None:
    if not can_edit(actor):
        raise Forbidden("只有分区管控规划员可以修改分区 / only zoning planners may edit zoning")


def _require_reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("请填写调整说明 / 'reason' is required", field="reason")
    if len(reason) > 2000:
        raise InvalidInput("调整说明过长（最多 2000 字）", field="reason")
    return reason


# --- geometry at the edge --------------------------------------------------------------------


def geometry_from_geojson(
    value: Any, *, crs: str = "wgs84", field: str = "geometry", polygonal: bool = True
) -> GEOSGeometry:
    """Return a storage-SRID geometry (MultiPolygon if `polygonal`) from GeoJSON in `crs`."""
    if value in (None, "", {}):
        raise InvalidInput(f"缺少几何 / missing '{field}'", field=field)
    if isinstance(value, dict) and value.get("type") == "Feature":
        value = value.get("geometry")
    if isinstance(value, dict) and value.get("type") == "FeatureCollection":
        feats = value.get("features") or []
        if not isinstance(feats, list) or len(feats) != 1 or not isinstance(feats[0], dict):
            raise InvalidInput(f"'{field}' 应只含一个要素 / must hold exactly one feature", field=field)
        value = feats[0].get("geometry")
    try:
        text = value if isinstance(value, str) else json.dumps(value)
        geom = GEOSGeometry(text)
    except Exception as exc:  # GEOS/GDAL raise several types for malformed GeoJSON
        raise InvalidInput(f"'{field}' 不是有效的 GeoJSON 几何 / not a GeoJSON geometry ({str(exc)[:80]})", field=field)
    crs = (crs or "wgs84").lower() if isinstance(crs, str) or not crs else None  # a JSON list, number…
    if crs not in ("wgs84", "gcj02", "cgcs2000", "bd09"):
        raise InvalidInput("'crs' 应为 wgs84、gcj02 或 cgcs2000", field="crs")
    if polygonal and geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise InvalidInput(f"'{field}' 应为面（Polygon/MultiPolygon），收到 {geom.geom_type}", field=field)
    if crs != "wgs84":
        import shapely

        shp = coords.transform_geometry(shapely.from_wkb(bytes(geom.wkb)), crs, "wgs84")
        geom = GEOSGeometry(memoryview(shapely.to_wkb(shp)))
    geom.srid = settings.GRIDGOV_SRID
    if geom.geom_type == "Polygon":
        geom = MultiPolygon(geom, srid=geom.srid)
    return geom


def check_valid(geom: GEOSGeometry, *, label: str, field: str = "geometry") -> None:
    """Refuse an invalid geometry, saying where and why, and offering the ST_MakeValid repair."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT (d).valid, (d).reason, ST_AsGeoJSON((d).location, 7),
                      ST_AsGeoJSON(ST_Multi(ST_CollectionExtract(ST_MakeValid(g), 3)), 7)
                 FROM (SELECT g, ST_IsValidDetail(g) d FROM (SELECT ST_GeomFromEWKB(%s) g) a) b""",
            [bytes(geom.ewkb)],
        )
        valid, reason, location, repaired = cursor.fetchone()
    if valid:
        return
    loc = json.loads(location) if location else None
    where = f"（{loc['coordinates'][0]:.6f}, {loc['coordinates'][1]:.6f}）" if loc else ""
    raise GeometryInvalid(
        f"{label} 的几何无效：{reason} {where} / invalid geometry: {reason}",
        field=field,
        extra={"reason": reason, "location": loc, "repaired": json.loads(repaired) if repaired else None},
    )


def check_within_city(geom: GEOSGeometry, *, label: str, field: str = "geometry") -> None:
    city_code = getattr(settings, "GRIDGOV_CITY_CODE", "330100")
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT ST_CoveredBy(g, c.geom), ST_Area(ST_Difference(g, c.geom)::geography),
                      ST_AsGeoJSON(ST_Difference(g, c.geom), 7)
                 FROM gridgov_adminarea c, (SELECT ST_GeomFromEWKB(%s) g) a WHERE c.code = %s""",
            [bytes(geom.ewkb), city_code],
        )
        row = cursor.fetchone()
    if row is None:
        raise InvalidInput("未加载市域边界，无法校验 / city boundary not loaded", field=field)
    covered, outside, outside_geom = row
    if covered or (outside or 0) <= OUTSIDE_CITY_TOLERANCE_M2:
        return
    raise InvalidInput(
        f"{label} 超出市域范围 {outside:.0f} m² / lies {outside:.0f} m² outside the city",
        field=field,
        extra={"outside_area_m2": round(outside, 1), "outside_geometry": json.loads(outside_geom)},
    )


def find_overlaps(geom: GEOSGeometry, *, layer: str, exclude_code: str | None = None) -> list[dict]:
    """Features of `layer` whose interiors overlap `geom`, with the overlap's area and shape."""
    if layer == Layer.CONTROL_UNIT:
        table, extra = "zoning_controlunit", ""
    else:
        table, extra = "zoning_zone", "AND layer = %(layer)s"
    sql = f"""
        SELECT code, name, a, ST_AsGeoJSON(i, 7) FROM (
            SELECT code, name, ST_Area(ST_Intersection(geom, g)::geography) a, ST_Intersection(geom, g) i
              FROM {table}, (SELECT ST_GeomFromEWKB(%(g)s) g) s
             WHERE ST_Intersects(geom, g) AND code <> %(exclude)s {extra}
        ) o WHERE a > %(tol)s ORDER BY a DESC
    """
    with connection.cursor() as cursor:
        cursor.execute(
            sql, {"g": bytes(geom.ewkb), "exclude": exclude_code or "", "layer": layer, "tol": OVERLAP_TOLERANCE_M2}
        )
        return [
            {"code": r[0], "name": r[1], "area_m2": round(r[2], 1), "geometry": json.loads(r[3])}
            for r in cursor.fetchall()
        ]


def check_geometry(geom: GEOSGeometry, *, layer: str, label: str, exclude_code: str | None = None) -> None:
    check_valid(geom, label=label)
    check_within_city(geom, label=label)
    overlaps = find_overlaps(geom, layer=layer, exclude_code=exclude_code)
    if overlaps:
        first = overlaps[0]
        raise OverlapError(
            f"{label} 与 {first['name']}（{first['code']}）重叠 {first['area_m2']:.0f} m²，同一图层不得重叠 / overlaps",
            field="geometry",
            extra={"overlaps": overlaps},
        )


# --- versions --------------------------------------------------------------------------------


def snapshot(obj) -> dict:
    """The attributes a version keeps (the geometry is kept in its own column)."""
    data = {
        "name": obj.name,
        "district_code": obj.district.code if obj.district_id else None,
        "access_list": obj.access_list,
        "synthetic": obj.synthetic,
    }
    if isinstance(obj, ControlUnit):
        data["category"] = obj.category
    else:
        data["subtype"] = obj.subtype
    return data


def _layer_of(obj) -> str:
    return Layer.CONTROL_UNIT if isinstance(obj, ControlUnit) else obj.layer


def _write_version(obj, *, action: str, reason: str, actor, now) -> ZoningVersion:
    layer = _layer_of(obj)
    ZoningVersion.objects.filter(layer=layer, code=obj.code, valid_to__isnull=True).update(valid_to=now)
    row = ZoningVersion(
        layer=layer,
        code=obj.code,
        version=obj.version,
        action=action,
        reason=reason,
        author=actor if actor and actor.is_authenticated else None,
        author_name=(actor.display_name if actor and actor.is_authenticated else "系统"),
        created_at=now,
        valid_from=now,
        valid_to=now if action == Action.DELETE else None,
        name=obj.name,
        category=getattr(obj, "category", None) or "",
        geom=obj.geom,
        attributes=snapshot(obj),
    )
    row.full_clean()
    row.save()
    return row


def _check_base(obj, base_version: int | None, *, label: str) -> None:
    if base_version is None:
        raise InvalidInput("缺少 base_version（编辑所基于的版本）/ 'base_version' is required", field="base_version")
    if int(base_version) == obj.version:
        return
    last = ZoningVersion.objects.filter(code=obj.code).order_by("-version").first()
    who = last.author_name if last else "?"
    when = timezone.localtime(last.created_at).strftime("%Y-%m-%d %H:%M") if last else "?"
    raise Conflict(
        f"{label} 已被 {who} 于 {when} 修改为第 {obj.version} 版，您的编辑基于第 {base_version} 版；请刷新后再改 / "
        f"stale edit: changed by {who} at {when}",
        field="base_version",
        extra={
            "current_version": obj.version,
            "changed_by": who,
            "changed_at": last.created_at.isoformat() if last else None,
        },
    )


def district_for_code(code: str) -> AdminArea | None:
    county = code[2:8]
    if county == getattr(settings, "GRIDGOV_CITY_CODE", "330100"):
        return None
    area = AdminArea.objects.filter(code=county, level=AreaLevel.DISTRICT).first()
    if area is None:
        raise InvalidInput(f"编码 {code} 中的区县代码 {county} 不是本市区县 / unknown county in code", field="code")
    return area


def _validate_unit_code(code: str, category: str | None) -> None:
    from django.core.exceptions import ValidationError

    try:
        unit_code_validator(code or "")
    except ValidationError as exc:
        raise InvalidInput(f"单元编码 {code!r} 格式错误：{exc.messages[0]}", field="code")
    if category and DIGIT_CATEGORY.get(code[8]) != category:
        raise InvalidInput(f"编码 {code} 的类别码 {code[8]} 与管控类别 {category} 不符", field="category")


def _validate_access_list(value) -> list:
    from django.core.exceptions import ValidationError

    try:
        validate_access_list(value)
    except ValidationError as exc:
        raise InvalidInput(exc.messages[0], field="access_list")
    return value


@transaction.atomic
def unit_create(
    *,
    code: str,
    name: str,
    category: str,
    geom: GEOSGeometry,
    access_list: list | None = None,
    reason: str,
    actor,
    synthetic: bool = False,
    action: str = Action.CREATE,
    check: bool = True,
    at=None,
) -> ControlUnit:
    """Create a control unit and its first version."""
    _require_editor(actor) if actor is not None else None
    reason = _require_reason(reason)
    if category not in Category.values:
        raise InvalidInput("'category' 应为 priority、key 或 general", field="category")
    _validate_unit_code(code, category)
    if not (name or "").strip():
        raise InvalidInput("请填写单元名称 / 'name' is required", field="name")
    if ControlUnit.objects.filter(code=code).exists():
        raise Conflict(f"单元编码 {code} 已存在 / duplicate code", field="code")
    label = f"单元 {code}"
    if check:
        check_geometry(geom, layer=Layer.CONTROL_UNIT, label=label)
    now = at or timezone.now()
    unit = ControlUnit(
        code=code,
        name=name.strip(),
        category=category,
        district=district_for_code(code),
        geom=geom,
        access_list=_validate_access_list(access_list or []),
        version=_next_version(code),
        synthetic=synthetic,
        updated_at=now,
        updated_by=actor if actor and actor.is_authenticated else None,
    )
    unit.full_clean()
    unit.save()
    _write_version(unit, action=action, reason=reason, actor=actor, now=now)
    return unit


def _next_version(code: str) -> int:
    last = ZoningVersion.objects.filter(code=code).order_by("-version").values_list("version", flat=True).first()
    return (last or 0) + 1


def _locked_unit(code: str) -> ControlUnit:
    unit = ControlUnit.objects.select_for_update().filter(code=code).first()
    if unit is None:
        raise NotFound(f"管控单元 {code} 不存在 / unit {code!r} not found", field="code")
    return unit


@transaction.atomic
def unit_update(
    *,
    code: str,
    base_version: int | None,
    reason: str,
    actor,
    name: str | None = None,
    category: str | None = None,
    geom: GEOSGeometry | None = None,
    access_list: list | None = None,
) -> ControlUnit:
    """Change a unit's geometry and/or attributes, based on the version the editor saw."""
    _require_editor(actor)
    reason = _require_reason(reason)
    unit = _locked_unit(code)
    label = f"单元 {code}（{unit.name}）"
    _check_base(unit, base_version, label=label)
    fields = ["version", "updated_at", "updated_by"]
    if name is not None:
        if not name.strip():
            raise InvalidInput("请填写单元名称 / 'name' is required", field="name")
        unit.name = name.strip()
        fields.append("name")
    if category is not None and category != unit.category:
        raise InvalidInput("管控类别由编码决定，改类别请新建单元 / category is fixed by the code", field="category")
    if access_list is not None:
        unit.access_list = _validate_access_list(access_list)
        fields.append("access_list")
    if geom is not None:
        check_geometry(geom, layer=Layer.CONTROL_UNIT, label=label, exclude_code=code)
        unit.geom = geom
        fields.append("geom")
    now = timezone.now()
    unit.version = _next_version(code)
    unit.updated_at = now
    unit.updated_by = actor
    unit.full_clean()
    unit.save(update_fields=fields)
    _write_version(unit, action=Action.UPDATE, reason=reason, actor=actor, now=now)
    return unit


@transaction.atomic
def unit_delete(*, code: str, base_version: int | None, reason: str, actor) -> ZoningVersion:
    """Delete a unit; its last state stays in the history as a delete version."""
    _require_editor(actor)
    reason = _require_reason(reason)
    unit = _locked_unit(code)
    _check_base(unit, base_version, label=f"单元 {code}（{unit.name}）")
    now = timezone.now()
    unit.version = _next_version(code)
    row = _write_version(unit, action=Action.DELETE, reason=reason, actor=actor, now=now)
    unit.delete()
    return row


@transaction.atomic
def unit_revert(*, code: str, to_version: int, base_version: int | None, reason: str, actor) -> ControlUnit:
    """Bring back the state of an earlier version, as a new version (history is never rewritten)."""
    _require_editor(actor)
    reason = _require_reason(reason)
    target = ZoningVersion.objects.filter(layer=Layer.CONTROL_UNIT, code=code, version=to_version).first()
    if target is None or target.action == Action.DELETE:
        raise NotFound(f"{code} 没有可回退的第 {to_version} 版 / no such version", field="to_version")
    attrs = target.attributes
    unit = ControlUnit.objects.select_for_update().filter(code=code).first()
    label = f"单元 {code}（{target.name}）"
    now = timezone.now()
    if unit is None:  # reverting a deleted unit re-creates it
        last = ZoningVersion.objects.filter(code=code).order_by("-version").first()
        if base_version is None or int(base_version) != last.version:
            raise Conflict(
                f"{label} 已被 {last.author_name} 于 {timezone.localtime(last.created_at):%Y-%m-%d %H:%M} "
                f"删除（第 {last.version} 版）",
                field="base_version",
                extra={"current_version": last.version, "changed_by": last.author_name},
            )
        check_geometry(target.geom, layer=Layer.CONTROL_UNIT, label=label, exclude_code=code)
        unit = ControlUnit(code=code, category=attrs["category"], district=district_for_code(code))
    else:
        _check_base(unit, base_version, label=label)
        check_geometry(target.geom, layer=Layer.CONTROL_UNIT, label=label, exclude_code=code)
    unit.name = target.name
    unit.geom = target.geom
    unit.access_list = attrs.get("access_list", [])
    unit.synthetic = attrs.get("synthetic", False)
    unit.version = _next_version(code)
    unit.updated_at = now
    unit.updated_by = actor
    unit.full_clean()
    unit.save()
    _write_version(unit, action=Action.REVERT, reason=f"{reason}（回退至第 {to_version} 版）", actor=actor, now=now)
    return unit


@transaction.atomic
def zone_create(
    *,
    code: str,
    name: str,
    layer: str,
    geom: GEOSGeometry,
    subtype: str = "",
    access_list: list | None = None,
    district: AdminArea | None = None,
    reason: str,
    actor,
    synthetic: bool = False,
    check: bool = True,
    at=None,
) -> Zone:
    """Create a red-line area or element zone and its first version."""
    if actor is not None:
        _require_editor(actor)
    reason = _require_reason(reason)
    if layer == Layer.CONTROL_UNIT or layer not in Layer.values:
        raise InvalidInput("'layer' 应为 red_line、water、air、soil 或 resource", field="layer")
    if Zone.objects.filter(code=code).exists():
        raise Conflict(f"编码 {code} 已存在 / duplicate code", field="code")
    if check:
        check_geometry(geom, layer=layer, label=f"分区 {code}")
    now = at or timezone.now()
    zone = Zone(
        code=code,
        name=name,
        layer=layer,
        subtype=subtype,
        geom=geom,
        district=district,
        access_list=_validate_access_list(access_list or []),
        version=_next_version(code),
        synthetic=synthetic,
        updated_at=now,
        updated_by=actor if actor and actor.is_authenticated else None,
    )
    zone.full_clean()
    zone.save()
    _write_version(zone, action=Action.CREATE, reason=reason, actor=actor, now=now)
    return zone


@dataclass(frozen=True)
class SavePayload:
    """Parsed body of a create/update request."""

    code: str | None
    name: str | None
    category: str | None
    geom: GEOSGeometry | None
    access_list: list | None
    reason: str
    base_version: int | None


def parse_payload(data: dict, *, require_all: bool) -> SavePayload:
    """Parse the JSON body of a unit save (geometry in WGS84 unless `crs` says otherwise)."""
    geom = None
    if data.get("geometry") not in (None, ""):
        geom = geometry_from_geojson(data["geometry"], crs=data.get("crs") or "wgs84")
    elif require_all:
        raise InvalidInput("缺少几何 / missing 'geometry'", field="geometry")
    base = data.get("base_version")
    if base not in (None, ""):
        try:
            base = int(base)
        except (TypeError, ValueError):
            raise InvalidInput("'base_version' 应为整数", field="base_version")
    else:
        base = None
    access = data.get("access_list")
    if access is not None and not isinstance(access, list):
        raise InvalidInput("'access_list' 应为条目列表", field="access_list")
    return SavePayload(
        code=_text(data, "code"),
        name=_text(data, "name"),
        category=_text(data, "category"),
        geom=geom,
        access_list=access,
        reason=_text(data, "reason") or "",
        base_version=base,
    )


def _text(data: dict, name: str) -> str | None:
    """A text field of the body, or None when absent; anything but a string is a 400 naming it."""
    value = data.get(name)
    if value is None or isinstance(value, str):
        return value
    raise InvalidInput(f"'{name}' 应为文本 / '{name}' must be a string", field=name)


def as_multipolygon(geom: GEOSGeometry) -> GEOSGeometry:
    if isinstance(geom, Polygon):
        return MultiPolygon(geom, srid=geom.srid)
    return geom
