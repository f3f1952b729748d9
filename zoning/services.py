"""Writes of the zoning app: every change of a unit or zone, with its immutable version.

Each service checks the actor's right, validates the geometry (valid, inside the city, no
overlap inside its layer, zoning/geometry.py), saves with `full_clean()`, closes the previous
version and writes the new one, all in one transaction. Saves carry the version they were
based on; a stale base is refused with a 409 naming who changed the unit and when (never
last-write-wins). The actor is always named: a planner (or superuser), or a `SystemActor` for
the writes no person makes (the demo loader, an import run from the shell).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gridgov.errors import Conflict, Forbidden, InvalidInput, NotFound
from gridgov.models import AdminArea, AreaLevel, Role, User

from .geometry import check_geometry
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
from .rules import access_item

MAX_REASON = 2000


@dataclass(frozen=True)
class SystemActor:
    """The author of a write no person makes, recorded by this name in the versions."""

    display_name: str


Actor = User | SystemActor


def can_edit(user) -> bool:
    """Planners and superusers edit zoning; everyone else reads."""
    return bool(user and user.is_authenticated and (user.is_superuser or user.role == Role.ZONING_PLANNER))


def require_editor(actor: Actor) -> None:
    """Refuse anyone but a planner, a superuser or the system (there is no anonymous write)."""
    if isinstance(actor, SystemActor):
        return
    if not can_edit(actor):
        raise Forbidden(_("只有分区管控规划员可以修改分区。"), code="zoning_planner_only")


def require_reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("请填写调整说明。"), code="reason_required", field="reason")
    if len(reason) > MAX_REASON:
        raise InvalidInput(_("调整说明最多 %(max)s 字。") % {"max": MAX_REASON}, code="too_long", field="reason")
    return reason


def author_of(actor: Actor) -> tuple[User | None, str]:
    """(account, name) to record for the actor: the system has a name but no account."""
    if isinstance(actor, SystemActor):
        return None, actor.display_name
    return actor, actor.display_name


# --- versions ----------------------------------------------------------------------------------


def snapshot(obj: ControlUnit | Zone) -> dict:
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


def _layer_of(obj: ControlUnit | Zone) -> str:
    return Layer.CONTROL_UNIT if isinstance(obj, ControlUnit) else obj.layer


def _write_version(obj: ControlUnit | Zone, *, action: str, reason: str, actor: Actor, now) -> ZoningVersion:
    layer = _layer_of(obj)
    ZoningVersion.objects.filter(layer=layer, code=obj.code, valid_to__isnull=True).update(valid_to=now)
    author, author_name = author_of(actor)
    row = ZoningVersion(
        layer=layer,
        code=obj.code,
        version=obj.version,
        action=action,
        reason=reason,
        author=author,
        author_name=author_name,
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


def _next_version(code: str) -> int:
    last = ZoningVersion.objects.filter(code=code).order_by("-version").values_list("version", flat=True).first()
    return (last or 0) + 1


def _check_base(obj: ControlUnit, base_version: int | None, *, label: str) -> None:
    if base_version is None:
        raise InvalidInput(_("请提供编辑所基于的版本号。"), code="base_version_required", field="base_version")
    if base_version == obj.version:
        return
    last = ZoningVersion.objects.filter(code=obj.code).order_by("-version").first()
    who = last.author_name if last else "?"
    when = timezone.localtime(last.created_at).strftime("%Y-%m-%d %H:%M") if last else "?"
    raise Conflict(
        _("%(label)s已被%(who)s于 %(when)s 修改为第 %(current)s 版，您的编辑基于第 %(base)s 版；请刷新后再改。")
        % {"label": label, "who": who, "when": when, "current": obj.version, "base": base_version},
        code="stale_edit",
        field="base_version",
        extra={
            "current_version": obj.version,
            "changed_by": who,
            "changed_at": last.created_at.isoformat() if last else None,
        },
    )


# --- what a unit is made of --------------------------------------------------------------------


def district_for_code(code: str) -> AdminArea | None:
    """The district a unit code names (None for a city-level code)."""
    county = code[2:8]
    if county == settings.GRIDGOV_CITY_CODE:
        return None
    area = AdminArea.objects.filter(code=county, level=AreaLevel.DISTRICT).first()
    if area is None:
        raise InvalidInput(
            _("单元编码中的区县代码 %(county)s 不是本市的区县。") % {"county": county},
            code="unknown_county",
            field="code",
        )
    return area


def _validate_unit_code(code: str, category: str) -> None:
    try:
        unit_code_validator(code)
    except ValidationError as exc:
        raise InvalidInput(
            _("单元编码格式错误：%(problem)s") % {"problem": exc.messages[0]}, code="code_format", field="code"
        )
    if DIGIT_CATEGORY.get(code[8]) != category:
        raise InvalidInput(
            _("单元编码的类别码 %(digit)s 与管控类别“%(category)s”不符。")
            % {"digit": code[8], "category": Category(category).label},
            code="category_mismatch",
            field="category",
        )


def _clean_access_list(items: list[dict] | None) -> list[dict]:
    """The access list validated, in its stored form (zoning.rules.access_item)."""
    items = list(items or [])
    try:
        validate_access_list(items)
    except ValidationError as exc:
        raise InvalidInput(exc.messages[0], code=exc.error_list[0].code or "access_list", field="access_list")
    return [
        access_item(i["dimension"], i["text"], forbids_construction=i.get("forbids_construction", False)) for i in items
    ]


def _unit_label(code: str, name: str | None = None) -> str:
    return (
        _("单元 %(code)s（%(name)s）") % {"code": code, "name": name} if name else _("单元 %(code)s") % {"code": code}
    )


def _locked_unit(code: str) -> ControlUnit:
    unit = ControlUnit.objects.select_for_update().filter(code=code).first()
    if unit is None:
        raise NotFound(_("管控单元 %(code)s 不存在。") % {"code": code}, code="unit_not_found", field="code")
    return unit


# --- control units -----------------------------------------------------------------------------


@transaction.atomic
def unit_create(
    *,
    code: str,
    name: str,
    category: str,
    geom: GEOSGeometry,
    access_list: list[dict] | None = None,
    reason: str,
    actor: Actor,
    synthetic: bool = False,
    action: str = Action.CREATE,
    check: bool = True,
    at=None,
) -> ControlUnit:
    """Create a control unit and its first version (`check=False` only for trusted demo shapes)."""
    require_editor(actor)
    reason = require_reason(reason)
    if category not in Category.values:
        raise InvalidInput(
            _("管控类别应为：%(choices)s。") % {"choices": "、".join(str(c) for c in Category.labels)},
            code="invalid_choice",
            field="category",
        )
    _validate_unit_code(code, category)
    name = (name or "").strip()
    if not name:
        raise InvalidInput(_("请填写单元名称。"), code="name_required", field="name")
    if ControlUnit.objects.filter(code=code).exists():
        raise Conflict(_("单元编码 %(code)s 已存在。") % {"code": code}, code="duplicate_code", field="code")
    access_list = _clean_access_list(access_list)
    if check:
        check_geometry(geom, layer=Layer.CONTROL_UNIT, label=_unit_label(code))
    now = at or timezone.now()
    unit = ControlUnit(
        code=code,
        name=name,
        category=category,
        district=district_for_code(code),
        geom=geom,
        access_list=access_list,
        version=_next_version(code),
        synthetic=synthetic,
        updated_at=now,
        updated_by=author_of(actor)[0],
    )
    unit.full_clean()
    unit.save()
    _write_version(unit, action=action, reason=reason, actor=actor, now=now)
    return unit


@transaction.atomic
def unit_update(
    *,
    code: str,
    base_version: int | None,
    reason: str,
    actor: Actor,
    name: str | None = None,
    category: str | None = None,
    geom: GEOSGeometry | None = None,
    access_list: list[dict] | None = None,
) -> ControlUnit:
    """Change a unit's geometry and/or attributes, based on the version the editor saw."""
    require_editor(actor)
    reason = require_reason(reason)
    unit = _locked_unit(code)
    label = _unit_label(code, unit.name)
    _check_base(unit, base_version, label=label)
    fields = ["version", "updated_at", "updated_by"]
    if name is not None:
        if not name.strip():
            raise InvalidInput(_("请填写单元名称。"), code="name_required", field="name")
        unit.name = name.strip()
        fields.append("name")
    if category is not None and category != unit.category:
        raise InvalidInput(_("管控类别由单元编码决定；改类别请新建单元。"), code="category_fixed", field="category")
    if access_list is not None:
        unit.access_list = _clean_access_list(access_list)
        fields.append("access_list")
    if geom is not None:
        check_geometry(geom, layer=Layer.CONTROL_UNIT, label=label, exclude_code=code)
        unit.geom = geom
        fields.append("geom")
    now = timezone.now()
    unit.version = _next_version(code)
    unit.updated_at = now
    unit.updated_by = author_of(actor)[0]
    unit.full_clean()
    unit.save(update_fields=fields)
    _write_version(unit, action=Action.UPDATE, reason=reason, actor=actor, now=now)
    return unit


@transaction.atomic
def unit_delete(*, code: str, base_version: int | None, reason: str, actor: Actor) -> ZoningVersion:
    """Delete a unit; its last state stays in the history as a delete version."""
    require_editor(actor)
    reason = require_reason(reason)
    unit = _locked_unit(code)
    _check_base(unit, base_version, label=_unit_label(code, unit.name))
    now = timezone.now()
    unit.version = _next_version(code)
    row = _write_version(unit, action=Action.DELETE, reason=reason, actor=actor, now=now)
    unit.delete()
    return row


@transaction.atomic
def unit_revert(*, code: str, to_version: int, base_version: int | None, reason: str, actor: Actor) -> ControlUnit:
    """Bring back the state of an earlier version, as a new version (history is never rewritten)."""
    require_editor(actor)
    reason = require_reason(reason)
    target = ZoningVersion.objects.filter(layer=Layer.CONTROL_UNIT, code=code, version=to_version).first()
    if target is None or target.action == Action.DELETE:
        raise NotFound(
            _("%(code)s 没有可回退的第 %(version)s 版。") % {"code": code, "version": to_version},
            code="version_not_found",
            field="to_version",
        )
    attrs = target.attributes
    unit = ControlUnit.objects.select_for_update().filter(code=code).first()
    label = _unit_label(code, target.name)
    now = timezone.now()
    if unit is None:  # reverting a deleted unit re-creates it
        last = ZoningVersion.objects.filter(code=code).order_by("-version").first()
        if base_version != last.version:
            raise Conflict(
                _("%(label)s已被%(who)s于 %(when)s 删除（第 %(version)s 版）。")
                % {
                    "label": label,
                    "who": last.author_name,
                    "when": timezone.localtime(last.created_at).strftime("%Y-%m-%d %H:%M"),
                    "version": last.version,
                },
                code="stale_edit",
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
    unit.updated_by = author_of(actor)[0]
    unit.full_clean()
    unit.save()
    # The reason is stored data, in the language the history is kept in.
    _write_version(unit, action=Action.REVERT, reason=f"{reason}（回退至第 {to_version} 版）", actor=actor, now=now)
    return unit


# --- red line and element zones ----------------------------------------------------------------


@transaction.atomic
def zone_create(
    *,
    code: str,
    name: str,
    layer: str,
    geom: GEOSGeometry,
    subtype: str = "",
    access_list: list[dict] | None = None,
    district: AdminArea | None = None,
    reason: str,
    actor: Actor,
    synthetic: bool = False,
    check: bool = True,
    at=None,
) -> Zone:
    """Create a red-line area or element zone and its first version."""
    require_editor(actor)
    reason = require_reason(reason)
    if layer == Layer.CONTROL_UNIT or layer not in Layer.values:
        raise InvalidInput(_("图层应为生态保护红线或一种要素分区。"), code="invalid_choice", field="layer")
    if Zone.objects.filter(code=code).exists():
        raise Conflict(_("分区编码 %(code)s 已存在。") % {"code": code}, code="duplicate_code", field="code")
    access_list = _clean_access_list(access_list)
    if check:
        check_geometry(geom, layer=layer, label=_("分区 %(code)s") % {"code": code})
    now = at or timezone.now()
    zone = Zone(
        code=code,
        name=name,
        layer=layer,
        subtype=subtype,
        geom=geom,
        district=district,
        access_list=access_list,
        version=_next_version(code),
        synthetic=synthetic,
        updated_at=now,
        updated_by=author_of(actor)[0],
    )
    zone.full_clean()
    zone.save()
    _write_version(zone, action=Action.CREATE, reason=reason, actor=actor, now=now)
    return zone
