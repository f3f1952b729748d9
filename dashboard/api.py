"""Dashboard API (/api/dashboard/): thin views over `dashboard.selectors`.

Each view validates its query string with its filter serializer from `dashboard.filters` (the
same class documents its parameters). Anonymous requests get 403 (DRF IsAuthenticated with
session authentication first); every answer is limited to the cases the user may see.
"""

from __future__ import annotations

import json

from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from gridgov.api import FormatParamNegotiation
from gridgov.pagination import LimitOffsetPagination
from gridgov.validation import validated

from . import cockpit, exports, ranking, selectors, todo
from .filters import (
    AggregateParams,
    CasesParams,
    ExportParams,
    HeatParams,
    OverviewParams,
    RankingParams,
    TodoParams,
    last_month,
    query,
)

SIMPLIFY = {"district": 0.002, "township": 0.0005, "grid": 0.00005}  # degrees, for the screen


class DashboardView(APIView):
    permission_classes = [IsAuthenticated]
    content_negotiation_class = FormatParamNegotiation

    @staticmethod
    def params(request, params_class, *, area_field: str | None = None) -> dict:
        """The query string validated by ``params_class``; the area its ``area_field`` names, if
        given, must be in the user's scope (``selectors.area_get``: 404 otherwise)."""
        p = validated(params_class, query(request))
        if area_field and p.get(area_field):
            selectors.area_get(user=request.user, code=p[area_field])
        return p


class AggregateView(DashboardView):
    @extend_schema(
        summary="按区域汇总案件指标（区县/乡镇/网格）",
        parameters=[AggregateParams],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        p = self.params(request, AggregateParams, area_field="parent")
        data = selectors.aggregate(
            user=request.user,
            level=p["level"],
            metric=p["metric"],
            filters=AggregateParams.case_filter(p),
            parent=p.get("parent"),
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
            # Legend classes with round edges (the map colours by them).
            "breaks": selectors.round_breaks(values, integer=data["metric"] in ("count", "overdue")),
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
        p = self.params(request, HeatParams)
        return Response(
            selectors.heat(user=request.user, bbox=p["bbox"], zoom=p["zoom"], filters=HeatParams.case_filter(p))
        )


class RankingView(DashboardView):
    @extend_schema(
        summary="排名通报：区县、某区县的乡镇街道或某乡镇街道的网格，按结案率、按期办结率、超期数、网格平均案件数"
        "排名，含名次变化（并列仅限数值相同且非空；无数据不排名、无升降）",
        parameters=[RankingParams],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        p = self.params(request, RankingParams, area_field="parent")
        return Response(
            ranking.ranking(
                user=request.user, level=p["level"], period=p["period"], order=p["order"], parent=p.get("parent")
            )
        )


class OverviewView(DashboardView):
    @extend_schema(
        summary="驾驶舱：KPI（今日上报、待核实、超期、结案率、按期办结率，各含较上月变化）、按周趋势、"
        "按类别、按来源、办结用时分布",
        parameters=[OverviewParams],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        p = self.params(request, OverviewParams, area_field="area")
        return Response(
            cockpit.overview(
                user=request.user,
                period=p.get("period") or last_month(),
                area=p.get("area"),
                filters=OverviewParams.case_filter(p),
            )
        )


def _local(value):
    """A time as the user reads it: Asia/Shanghai, ISO 8601 with its offset."""
    return timezone.localtime(value).isoformat() if value else None


class TodoView(DashboardView):
    pagination_class = LimitOffsetPagination

    @extend_schema(
        summary="我的待办：待核实、待交办、待验收、待督办的案件（按等待时间先后），及各类数量",
        parameters=[TodoParams],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        p = self.params(request, TodoParams, area_field="area")
        counts, qs = todo.todo(user=request.user, area=p.get("area"), kind=p.get("kind"))
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(qs, request, view=self)
        now = timezone.now()
        rows = [
            {
                "id": i.pk,
                "kind": i.todo,
                "kind_label": todo.KIND_LABELS[i.todo],
                "category_name": i.category.name,
                "status": i.status,
                "status_label": i.get_status_display(),
                "district": i.district.name if i.district else None,
                "township": i.township.name if i.township else None,
                "grid_cell": i.grid_cell_code,
                "unit": i.responsible_unit.name if i.responsible_unit else None,
                "waiting_since": _local(i.waiting_since),
                "reported_at": _local(i.reported_at),
                "deadline": _local(i.deadline),
                "overdue": i.is_overdue,
                "days_waiting": (now - i.waiting_since).days if i.waiting_since else None,
                "escalation_level": i.escalation_level,
                "url": reverse("patrol-page-detail", args=[i.pk]),
            }
            for i in page
        ]
        response = paginator.get_paginated_response(rows)
        response.data["counts"] = counts
        response.data["labels"] = {k: str(v) for k, v in todo.KIND_LABELS.items() if k in counts}
        return response


class CasesView(DashboardView):
    @extend_schema(summary="区域内案件列表（分页）", parameters=[CasesParams], responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        p = self.params(request, CasesParams)
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
                "reported_at": _local(i.reported_at),
                "deadline": _local(i.deadline),
                "closed_at": _local(i.closed_at),
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
        p = self.params(request, ExportParams, area_field="area")
        filters = ExportParams.case_filter(p)
        header, rows = exports.export_rows(user=request.user, filters=filters)
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        if p["format"] == "csv":
            return exports.csv_response(header, rows, f"cases-{stamp}.csv")
        return exports.xlsx_response(header, rows, f"cases-{stamp}.xlsx")
