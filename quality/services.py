"""Writes of environmental quality: registering stations (their data logger included).

Keyword-only, one transaction each, validated before save, and every write leaves an
append-only `StationEvent`. The station's data logger is registered through
`monitoring.services`, so the HJ 212 receiver takes its packets (kind station, no limits:
stations are judged by quality standards here, not against permitted limits).
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from gridgov.errors import Conflict, Forbidden, InvalidInput
from gridgov.geo import point_from
from monitoring import services as monitoring
from monitoring.models import LoggerKind
from monitoring.selectors import place_of

from .models import Station, StationEvent, StationKind, WaterBody
from .selectors import can_manage


@transaction.atomic
def station_register(
    *,
    actor,
    code: str,
    name: str,
    kind: str,
    lat: float,
    lon: float,
    mn: str,
    password: str,
    crs: str = "wgs84",
    target_class: str = "",
    water_body: str = "",
    synthetic: bool = False,
) -> Station:
    """Register an air station or a water section at a point of the city, with its logger.

    `actor` None is the system (the demo); anyone else must manage the point's district."""
    if kind == StationKind.AIR and target_class:
        raise InvalidInput(_("空气质量监测站没有水质目标。"), code="target_for_air", field="target_class")
    if kind == StationKind.AIR and water_body:
        raise InvalidInput(_("空气质量监测站没有水体类型。"), code="water_body_for_air", field="water_body")
    if kind == StationKind.WATER and not water_body:
        water_body = WaterBody.RIVER
    point = point_from(lat, lon, crs)
    place = place_of(point.x, point.y)
    if actor is not None and not can_manage(actor, district_id=place.district_id):
        raise Forbidden(_("该位置不在您管理的区县内。"), code="outside_jurisdiction", field="lat")
    if Station.objects.filter(code=code).exists():
        raise Conflict(_("这个站点编码已经登记过。"), code="code_taken", field="code")
    logger = monitoring.logger_register(
        mn=mn, password=password, kind=LoggerKind.STATION, name=name, point=point, synthetic=synthetic
    )
    station = Station(
        code=code,
        name=name,
        kind=kind,
        logger=logger,
        target_class=target_class or "",
        water_body=water_body or "",
        synthetic=synthetic,
    )
    station.full_clean()
    station.save()
    StationEvent.objects.create(
        station_id=station.pk,
        code=station.code,
        action="register",
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        data={
            "name": name,
            "kind": kind,
            "mn": mn,
            "lon": point.x,
            "lat": point.y,
            "district": place.district_code,
            "township": place.township_code,
            "target_class": station.target_class,
            "water_body": station.water_body,
        },
    )
    return station
