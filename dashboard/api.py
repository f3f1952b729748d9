"""Dashboard API (/api/dashboard/): thin views over `dashboard.selectors`.

Each view validates its query string with its filter serializer from `dashboard.filters` (the
same class documents its parameters). Anonymous requests get 403 (DRF IsAuthenticated with
session authentication first); every answer is limited to the cases the user may see.
"""

from __future__ import annotations

import json

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from gridgov.api import FormatParamNegotiation
from gridgov.validation import validated

from . import exports, selectors
from .filters import AggregateParams, CasesParams, ExportParams, HeatParams, RankingParams, query

SIMPLIFY = {"district": 0.002, "township": 0.0005, "grid": 0.00005}  # degrees, for the screen


class DashboardView(APIView):
    permission_classes = [IsAuthenticated]
    content_negotiation_class = FormatParamNegotiation


class AggregateView(DashboardView):
    @extend_schema(
        summary="按区域汇总案件指标（区县/乡镇/网格）",
        parameters=[AggregateParams],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        p = validated(AggregateParams, query(request))
        parent = p.get("parent")
        if parent:
            selectors.area_get(user=request.user, code=parent)
        data = selectors.aggregate(
            user=request.user,
            level=p["level"],
            metric=p["metric"],
            filters=AggregateParams.case_filter(p),
            parent=parent,
        )
        if p["format"] == "json":
            return Response(data)
        geoms = selectors.area_geometries(
            user=request.user, level=data["level"], codes=data["areas"], simplify=SIMPLIFY[data["level"]]
        )
        features = [
            {"type": "Feature", "id": code, "geometry": json.loads(geoms[code]), "properties": {"code": code, **props}}
            for code, props in data["areas"].items()
            if geoms.get(code)
        ]
        values = [f["properties"]["value"] for f in features if f["properties"]["value"] is not None]
        body = {
            "type": "FeatureCollection",
            "level": data["level"],
            "metric": data["metric"],
            "range": [min(values), max(values)] if values else None,
            "features": features,
        }
        return Response(body)


class HeatView(DashboardView):
    @extend_schema(
        summary="热力图：服务器按缩放级别分箱（EPSG:3857 方格），返回带权点 [lat, lon, n]",
        parameters=[HeatParams],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        p = validated(HeatParams, query(request))
        return Response(
            selectors.heat(user=request.user, bbox=p["bbox"], zoom=p["zoom"], filters=HeatParams.case_filter(p))
        )


class RankingView(DashboardView):
    @extend_schema(
        summary="排名通报：区县/乡镇按结案率、按期办结率、超期数、网格平均案件数排名，含名次变化",
        parameters=[RankingParams],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        p = validated(RankingParams, query(request))
        return Response(selectors.ranking(user=request.user, level=p["level"], period=p["period"], order=p["order"]))


class CasesView(DashboardView):
    @extend_schema(summary="区域内案件列表（分页）", parameters=[CasesParams], responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        p = validated(CasesParams, query(request))
        filters = CasesParams.case_filter(p)
        area = selectors.area_get(user=request.user, code=filters.area) if filters.area else None
        page, size = p["page"], selectors.CASE_PAGE_SIZE
        rows = list(selectors.cases_list(user=request.user, filters=filters)[(page - 1) * size : page * size + 1])
        results = [
            {
                "id": i.pk,
                "category": i.category_id,
                "category_name": i.category.name,
                "status": i.status,
                "status_label": i.get_status_display(),
                "source": i.get_source_display(),
                "description": i.description[:80],
                "district": i.district.name if i.district else None,
                "township": i.township.name if i.township else None,
                "grid_cell": i.grid_cell_code,
                "reported_at": i.reported_at,
                "deadline": i.deadline,
                "closed_at": i.closed_at,
                "overdue": i.is_overdue,
                "lat": i.point.y,
                "lon": i.point.x,
            }
            for i in rows[:size]
        ]
        return Response(
            {"area": area, "page": page, "page_size": size, "has_next": len(rows) > size, "results": results}
        )


class ExportView(DashboardView):
    @extend_schema(
        summary=f"导出案件（含各环节时间），CSV 或 XLSX；最多 {exports.EXPORT_MAX_ROWS} 行",
        parameters=[ExportParams],
        responses={
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, exports.XLSX): OpenApiTypes.BINARY,
        },
    )
    def get(self, request):
        p = validated(ExportParams, query(request))
        filters = ExportParams.case_filter(p)
        if filters.area:
            selectors.area_get(user=request.user, code=filters.area)
        header, rows = exports.export_rows(user=request.user, filters=filters)
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        if p["format"] == "csv":
            return exports.csv_response(header, rows, f"cases-{stamp}.csv")
        return exports.xlsx_response(header, rows, f"cases-{stamp}.xlsx")
