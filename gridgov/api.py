"""The grid core's HTTP API: thin views that parse, call one selector or service, serialize."""

from __future__ import annotations

import logging
import math

from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from . import geo, selectors
from .errors import ErrorSerializer
from .models import AdminArea, AreaLevel, Duty, GridCell
from .validation import CRSField, FiniteFloatField, lat_field, lon_field, validated

log = logging.getLogger(__name__)


class GridGovAutoSchema(AutoSchema):
    """Document the one error body (component `Error`) on every operation.

    Any API answer may be a 400 (a bad parameter, a NUL byte, unreadable JSON), a 403 (not signed
    in, not the right role) or a 404 (absent, or outside the user's jurisdiction), all from
    `gridgov.errors.api_exception_handler`; views add 409/413 where they raise them.
    """

    error_codes = ("400", "403", "404")

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code in self.error_codes:
            if code not in responses:
                responses[code] = self._get_response_for_code(ErrorSerializer, code, direction=direction)
        return responses


class FormatParamNegotiation(DefaultContentNegotiation):
    """For views whose `?format=` names a file format (csv, xlsx, gpkg …), not a DRF renderer:
    always the view's first renderer, whatever `format` says."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def healthz(request):
    """Liveness and readiness: the database answers and PostGIS is installed."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT postgis_lib_version()")
            version = cursor.fetchone()[0]
    except Exception:  # the point of a health check is to report any failure
        log.exception("health check: the database did not answer")
        return JsonResponse({"status": "error", "database": "unavailable"}, status=503)
    return JsonResponse(
        {"status": "ok", "database": connection.vendor + " " + connection.settings_dict["NAME"], "postgis": version}
    )


class AdminAreaSerializer(GeoFeatureModelSerializer):
    parent = serializers.CharField(source="parent.code", default=None, read_only=True, allow_null=True)

    class Meta:
        model = AdminArea
        geo_field = "geom"
        id_field = False
        fields = ["code", "name", "level", "parent", "synthetic"]


class AreaParams(serializers.Serializer):
    level = serializers.ChoiceField(label=_("级别"), choices=AreaLevel.choices, required=False)
    parent = serializers.RegexField(r"^[0-9]{6,9}$", label=_("上级区域"), required=False, help_text="parent's code")
    crs = serializers.ChoiceField(
        label=_("输出坐标系"), choices=list(geo.OUTPUT_SRIDS), default="4326", help_text="4326 (WGS84) or 4490"
    )
    zoom = serializers.IntegerField(
        label=_("显示缩放级别"),
        min_value=0,
        max_value=22,
        required=False,
        help_text="simplify for a web map at this zoom (tolerance: half a pixel); omit for full detail",
    )
    simplify = FiniteFloatField(
        label=_("简化容差（度）"),
        min_value=0,
        max_value=0.1,
        required=False,
        help_text="Douglas-Peucker tolerance in degrees (topology preserved); zoom takes precedence",
    )


# Simplified boundaries are public and change only when the demo grid is rebuilt: kept in the
# shared cache (and by browsers) for ten minutes.
AREAS_CACHE_SECONDS = 600
# Web Mercator tiles are 256 px wide: one pixel is 360° / (256 · 2^zoom) of longitude.
PIXEL_DEGREES = 360 / 256

# One statement builds the whole FeatureCollection (raw SQL: ST_SimplifyPreserveTopology and
# ST_AsGeoJSON per row, then json_agg, so PostGIS writes the text and Python only passes it on).
SIMPLIFIED_AREAS_SQL = """
SELECT json_build_object('type', 'FeatureCollection', {crs}'features', coalesce(json_agg(f ORDER BY code), '[]'))::text
  FROM (SELECT a.code,
               json_build_object(
                   'type', 'Feature',
                   'geometry', ST_AsGeoJSON(
                       ST_Multi(ST_SimplifyPreserveTopology(ST_Transform(a.geom, %(srid)s), %(tol)s)), %(digits)s, 0
                   )::json,
                   'properties', json_build_object('code', a.code, 'name', a.name, 'level', a.level,
                                                   'parent', p.code, 'synthetic', a.synthetic)) AS f
          FROM gridgov_adminarea a LEFT JOIN gridgov_adminarea p ON p.id = a.parent_id
         WHERE (%(level)s::text IS NULL OR a.level = %(level)s) AND (%(parent)s::text IS NULL OR p.code = %(parent)s)) t
"""


def simplified_areas(*, level: str | None, parent: str | None, srid: int, tolerance: float) -> str:
    """The areas' FeatureCollection (text) with boundaries simplified to `tolerance` degrees and
    coordinates to the digits that tolerance can tell apart; cached."""
    digits = min(7, max(3, math.ceil(-math.log10(tolerance)) + 1)) if tolerance > 0 else 7
    key = f"gridgov:areas:v2:{level}:{parent}:{srid}:{tolerance:.3g}:{digits}"
    text = cache.get(key)
    if text is None:
        # RFC 7946 GeoJSON is WGS84 only; another CRS is named as GDAL and QGIS read it.
        crs = "" if srid == 4326 else "'crs', json_build_object('type', 'name', 'properties', "
        crs += "" if srid == 4326 else "json_build_object('name', 'urn:ogc:def:crs:EPSG::' || %(srid)s)), "
        with connection.cursor() as cursor:
            params = {"level": level, "parent": parent, "srid": srid, "tol": tolerance, "digits": digits}
            cursor.execute(SIMPLIFIED_AREAS_SQL.format(crs=crs), params)
            text = cursor.fetchone()[0]
        cache.set(key, text, AREAS_CACHE_SECONDS)
    return text


class AreaListView(APIView):
    """Administrative areas as GeoJSON: public reference geography.

    `zoom` (or `simplify`) asks for boundaries simplified for a web map: at zoom 9 the 13
    districts are a few dozen kilobytes instead of half a megabyte.
    """

    @extend_schema(parameters=[AreaParams], responses=AdminAreaSerializer(many=True))
    def get(self, request):
        p = validated(AreaParams, {k: v for k, v in request.GET.items() if v != ""})
        srid = geo.OUTPUT_SRIDS[p["crs"]]
        tolerance = PIXEL_DEGREES / 2 ** p["zoom"] / 2 if "zoom" in p else p.get("simplify")
        if tolerance is not None:
            text = simplified_areas(level=p.get("level"), parent=p.get("parent"), srid=srid, tolerance=tolerance)
            response = HttpResponse(text, content_type="application/json")
            response["Cache-Control"] = f"public, max-age={AREAS_CACHE_SECONDS}"
            return response
        areas = selectors.admin_areas(level=p.get("level"), parent_code=p.get("parent"))
        if srid != 4326:
            areas = list(areas)
            for area in areas:
                area.geom.transform(srid)
        data = AdminAreaSerializer(areas, many=True).data
        if srid != 4326:
            # RFC 7946 GeoJSON is WGS84 only; name the CRS the way GDAL and QGIS read it.
            data["crs"] = {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG::{srid}"}}
        return Response(data)


LOCATE_RESPONSE = inline_serializer(
    "Location",
    {
        "district": inline_serializer(
            "LocationArea", {"code": serializers.CharField(), "name": serializers.CharField()}
        ),
        "township": inline_serializer(
            "LocationTownship", {"code": serializers.CharField(), "name": serializers.CharField()}
        ),
        "grid_cell": inline_serializer("LocationCell", {"code": serializers.CharField()}),
        "officers": serializers.ListField(child=serializers.DictField()),
        "point": serializers.DictField(),
    },
)


class LocateParams(serializers.Serializer):
    lat = lat_field()
    lon = lon_field()
    crs = CRSField()


class LocateView(APIView):
    """The grid cell, township and district responsible for a point."""

    @extend_schema(parameters=[LocateParams], responses={200: LOCATE_RESPONSE})
    def get(self, request):
        p = validated(LocateParams, request.GET)
        lon, lat = geo.point_from(p["lat"], p["lon"], p["crs"]).coords
        loc = selectors.locate_lonlat(lon, lat)
        # Names of grid staff are posted publicly (网格公示牌), never their login names; phone
        # numbers only to staff whose jurisdiction contains the cell.
        show_phone = (
            request.user.is_authenticated
            and selectors.grid_cells_visible(user=request.user).filter(pk=loc.cell_id).exists()
        )
        officers = [
            {
                "name": o["name"],
                "duty": o["duty"],
                "duty_label": str(Duty(o["duty"]).label),
                **({"phone": o["phone"]} if show_phone else {}),
            }
            for o in selectors.cell_staff(cell_id=loc.cell_id)
        ]
        return Response(
            {
                "district": {"code": loc.district_code, "name": loc.district_name},
                "township": {"code": loc.township_code, "name": loc.township_name},
                "grid_cell": {"code": loc.cell_code},
                "officers": officers,
                "point": {"lat": round(lat, 7), "lon": round(lon, 7), "crs": "wgs84"},
            }
        )


class GridCellSerializer(GeoFeatureModelSerializer):
    township = serializers.CharField(source="township.code")
    township_name = serializers.CharField(source="township.name")
    district = serializers.CharField(source="township.parent.code")
    officers = serializers.SerializerMethodField()

    class Meta:
        model = GridCell
        geo_field = "geom"
        id_field = False
        fields = ["code", "name", "level", "township", "township_name", "district", "synthetic", "officers"]

    def get_officers(self, cell) -> list[dict]:
        return [
            {"username": a.user.username, "name": a.user.display_name, "duty": a.duty, "phone": a.user.phone}
            for a in cell.assignments.all()
        ]


class GridCellDetailView(APIView):
    """One grid cell with its staff; outside the user's jurisdiction it does not exist."""

    @extend_schema(responses=GridCellSerializer)
    def get(self, request, code: str):
        cell = selectors.grid_cell_get(user=request.user, code=code)
        return Response(GridCellSerializer(cell).data)
