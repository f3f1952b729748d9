"""Writes of pollution sources: registering enterprises (with their permit) and outlets.

Keyword-only, one transaction each, validated before save, and every write leaves a
`SourceEvent` (append-only). The outlet's data logger and its limits are registered through
`monitoring.services`.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.db import transaction
from django.utils.translation import gettext as _

from gridgov.errors import Conflict, Forbidden, InvalidInput
from gridgov.geo import point_from
from gridgov.models import Organization
from monitoring import services as monitoring
from monitoring.models import LoggerKind
from monitoring.selectors import place_of
from zoning.selectors import zones_covering_lonlat

from .codes import credit_code_problem
from .models import Enterprise, ManagementClass, Outlet, Permit, SourceEvent
from .selectors import can_manage

Bounds = tuple[float | None, float | None]


def _audit(enterprise: Enterprise, action: str, actor, data: dict) -> None:
    SourceEvent.objects.create(
        enterprise_id=enterprise.pk,
        credit_code=enterprise.credit_code,
        action=action,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        data=data,
    )


def _not_yours() -> Forbidden:
    return Forbidden(_("该位置不在您管理的区县内。"), code="outside_jurisdiction", field="lat")


@transaction.atomic
def enterprise_register(
    *,
    actor,
    credit_code: str,
    name: str,
    industry_code: str,
    management_class: str,
    lat: float,
    lon: float,
    crs: str = "wgs84",
    permit: Mapping | None = None,
    synthetic: bool = False,
) -> Enterprise:
    """Register an enterprise at a point of the city, with its discharge permit if it has one."""
    if credit_code_problem(credit_code):
        raise InvalidInput(_("统一社会信用代码的校验码不正确。"), code="credit_code_invalid", field="credit_code")
    if management_class == ManagementClass.REGISTRATION and permit:
        raise InvalidInput(_("登记管理的排污单位没有排污许可证。"), code="registration_has_no_permit", field="permit")
    if permit and not str(permit["number"]).startswith(credit_code):
        raise InvalidInput(
            _("排污许可证编号应以企业的统一社会信用代码开头。"), code="permit_not_of_enterprise", field="permit.number"
        )
    point = point_from(lat, lon, crs)
    wx, wy = point.coords
    place = place_of(wx, wy)
    if actor is not None and not can_manage(actor, district_id=place.district_id):
        raise _not_yours()
    if Enterprise.objects.filter(credit_code=credit_code).exists():
        raise Conflict(_("这个统一社会信用代码已经登记过。"), code="credit_code_taken", field="credit_code")
    if Organization.objects.filter(name=name).exists():
        raise Conflict(_("已有同名的单位，请核对企业名称。"), code="name_taken", field="name")
    organization = Organization(
        name=name, kind=Organization.Kind.ENTERPRISE, area_id=place.township_id, synthetic=synthetic
    )
    organization.full_clean()
    organization.save()
    zones = zones_covering_lonlat(wx, wy)
    enterprise = Enterprise(
        credit_code=credit_code,
        name=name,
        industry_code=industry_code,
        management_class=management_class,
        point=point,
        crs_note=crs,
        district_id=place.district_id,
        township_id=place.township_id,
        grid_cell_id=place.cell_id,
        grid_cell_code=place.cell_code,
        zone_hits=[{"code": z.code, "name": z.name, "layer": z.layer, "category": z.category} for z in zones],
        organization=organization,
        synthetic=synthetic,
    )
    enterprise.full_clean(exclude=["organization"])
    enterprise.save()
    if permit:
        _permit_save(enterprise, permit)
    _audit(
        enterprise,
        "register",
        actor,
        {
            "name": name,
            "management_class": management_class,
            "industry_code": industry_code,
            "point": [round(wx, 7), round(wy, 7)],
            "permit": permit["number"] if permit else None,
        },
    )
    return enterprise


def _permit_save(enterprise: Enterprise, permit: Mapping) -> Permit:
    if Permit.objects.filter(number=permit["number"]).exists():
        raise Conflict(_("这个排污许可证编号已经登记过。"), code="permit_taken", field="permit.number")
    row = Permit(
        enterprise=enterprise,
        number=permit["number"],
        valid_from=permit["valid_from"],
        valid_to=permit["valid_to"],
    )
    row.full_clean(exclude=["enterprise"])
    row.save()
    return row


@transaction.atomic
def outlet_add(
    *,
    actor,
    enterprise: Enterprise,
    code: str,
    lat: float,
    lon: float,
    crs: str = "wgs84",
    mn: str,
    password: str,
    limits: Mapping[str, Bounds],
    exceedance_rule: str = "mean",
    synthetic: bool = False,
) -> Outlet:
    """Add a monitored outlet to an enterprise: its data logger (MN, PW) and permitted limits."""
    if actor is not None and not can_manage(actor, district_id=enterprise.district_id):
        raise Forbidden(_("该企业不在您管理的区县内。"), code="outside_jurisdiction", field="credit_code")
    if enterprise.outlets.filter(code=code).exists():
        raise Conflict(_("该企业已有这个排放口编号。"), code="outlet_code_taken", field="code")
    point = point_from(lat, lon, crs)
    logger = monitoring.logger_register(
        mn=mn,
        password=password,
        kind=LoggerKind.OUTLET,
        name=f"{enterprise.name} {code}",
        point=point,
        limits=limits,
        exceedance_rule=exceedance_rule,
        synthetic=synthetic,
    )
    outlet = Outlet(enterprise=enterprise, code=code, point=point, logger=logger)
    outlet.full_clean(exclude=["enterprise", "logger"])
    outlet.save()
    _audit(
        enterprise,
        "outlet_add",
        actor,
        {"code": code, "mn": mn, "limits": {k: list(v) for k, v in limits.items()}, "point": list(point.coords)},
    )
    return outlet
