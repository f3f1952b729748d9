"""Dashboard API (/api/dashboard/): thin views over `dashboard.selectors`.

Anonymous requests get 403 (DRF IsAuthenticated with session auth); every answer is limited to
the user's jurisdiction.
"""

from __future__ import annotations

import csv
import io
import json

from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from gridgov.errors import InvalidInput

from . import selectors
from .selectors import CaseFilter

FILTER_PARAMS = [
    OpenApiParameter("since", OpenApiTypes.STR, description="上报时间起（ISO 8601 日期或时间，含）"),
    OpenApiParameter("until", OpenApiTypes.STR, description="上报时间止（ISO 8601；日期表示当天结束）"),
    OpenApiParameter("category", OpenApiTypes.STR, description="类别编码；大类包含其子类"),
    OpenApiParameter("source", OpenApiTypes.STR, description="来源"),
    OpenApiParameter("status", OpenApiTypes.STR, description="状态（逗号分隔；另有 open、overdue）"),
    OpenApiParameter("district", OpenApiTypes.STR, description="区县代码（6 位）"),
    OpenApiParameter("area", OpenApiTypes.STR, description="区域编码（6/9/14 位），下钻时使用"),
]


class _Settings:
    """DRF settings with the `?format=` override off: here `format` means csv/xlsx/geojson."""

    URL_FORMAT_OVERRIDE = None

    def __getattr__(self, name):
        return getattr(api_settings, name)


class FormatParamNegotiation(DefaultContentNegotiation):
    settings = _Settings()


class DashboardView(APIView):
    permission_classes = [IsAuthenticated]
    content_negotiation_class = FormatParamNegotiation


class AggregateView(DashboardView):
    @extend_schema(
        summary="按区域汇总案件指标（区县/乡镇/网格）",
        parameters=[
            OpenApiParameter("level", OpenApiTypes.STR, enum=list(selectors.LEVELS), required=True),
            OpenApiParameter("metric", OpenApiTypes.STR, enum=list(selectors.METRICS)),
            OpenApiParameter("parent", OpenApiTypes.STR, description="只列此区域之内的下级（下钻）"),
            OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "geojson"]),
            *FILTER_PARAMS,
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        p = request.query_params
        filters = CaseFilter.from_params(p)
        parent = p.get("parent") or None
        if parent:
            selectors.area_get(user=request.user, code=parent)
        fmt = selectors.parse_choice(p.get("format"), ("json", "geojson"), field="format", default="json")
        data = selectors.aggregate(
            user=request.user, level=p.get("level"), metric=p.get("metric"), filters=filters, parent=parent
        )
        if fmt == "json":
            return Response(data)
        simplify = {"district": 0.002, "township": 0.0005, "grid": 0.00005}[data["level"]]
        geoms = selectors.area_geometries(
            user=request.user, level=data["level"], codes=data["areas"], simplify=simplify
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
        parameters=[
            OpenApiParameter("bbox", OpenApiTypes.STR, required=True, description="minlon,minlat,maxlon,maxlat"),
            OpenApiParameter("zoom", OpenApiTypes.INT, required=True, description="3–18"),
            *FILTER_PARAMS,
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        p = request.query_params
        bbox = selectors.parse_heat_bbox(p.get("bbox"))
        zoom = selectors.parse_zoom(p.get("zoom"))
        filters = CaseFilter.from_params(p)
        return Response(selectors.heat(user=request.user, bbox=bbox, zoom=zoom, filters=filters))


class RankingView(DashboardView):
    @extend_schema(
        summary="排名通报：区县/乡镇按结案率、按期办结率、超期数、网格平均案件数排名，含名次变化",
        parameters=[
            OpenApiParameter("level", OpenApiTypes.STR, enum=list(selectors.RANKING_LEVELS), required=True),
            OpenApiParameter("period", OpenApiTypes.STR, required=True, description="YYYY-MM"),
            OpenApiParameter("order", OpenApiTypes.STR, enum=list(selectors.RANKING_METRICS)),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        p = request.query_params
        return Response(
            selectors.ranking(user=request.user, level=p.get("level"), period=p.get("period"), order=p.get("order"))
        )


class CasesView(DashboardView):
    @extend_schema(
        summary="区域内案件列表（分页）",
        parameters=[*FILTER_PARAMS, OpenApiParameter("page", OpenApiTypes.INT)],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        p = request.query_params
        filters = CaseFilter.from_params(p)
        if filters.area:
            area = selectors.area_get(user=request.user, code=filters.area)
        else:
            area = None
        try:
            page = int(p.get("page") or 1)
            if page < 1:
                raise ValueError
        except ValueError:
            raise InvalidInput("参数 page 必须是正整数 / 'page' must be a positive integer", field="page")
        qs = selectors.cases_list(user=request.user, filters=filters)
        size = selectors.CASE_PAGE_SIZE
        rows = list(qs[(page - 1) * size : page * size + 1])
        now = timezone.now()
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
                "overdue": bool(i.deadline and i.status in selectors.OPEN_STATUSES and i.deadline < now),
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
        summary=f"导出案件（含各环节时间），CSV 或 XLSX；最多 {selectors.EXPORT_MAX_ROWS} 行",
        parameters=[OpenApiParameter("format", OpenApiTypes.STR, enum=["csv", "xlsx"], required=True), *FILTER_PARAMS],
        responses={
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"): OpenApiTypes.BINARY,
        },
    )
    def get(self, request):
        p = request.query_params
        fmt = selectors.parse_choice(p.get("format"), ("csv", "xlsx"), field="format")
        filters = CaseFilter.from_params(p)
        if filters.area:
            selectors.area_get(user=request.user, code=filters.area)
        header, rows = selectors.export_rows(user=request.user, filters=filters)
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        if fmt == "csv":
            return self._csv(header, rows, f"cases-{stamp}.csv")
        return self._xlsx(header, rows, f"cases-{stamp}.xlsx")

    @staticmethod
    def _csv(header, rows, filename):
        def stream():
            buf = io.StringIO()
            writer = csv.writer(buf)
            buf.write("\ufeff")  # so Excel opens UTF-8 Chinese text correctly
            writer.writerow(header)
            for i, row in enumerate(rows):
                writer.writerow(["" if v is None else v for v in row])
                if i % 500 == 0:
                    yield buf.getvalue()
                    buf.seek(0)
                    buf.truncate()
            yield buf.getvalue()

        response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    @staticmethod
    def _xlsx(header, rows, filename):
        from openpyxl import Workbook
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        wb = Workbook(write_only=True)
        ws = wb.create_sheet("案件")
        ws.append(header)
        for row in rows:
            # XML 1.0 cannot hold most control characters; stored text (a note typed or pasted
            # anywhere) may, and openpyxl would raise on it. Drop them from this copy only.
            ws.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in row])
        out = io.BytesIO()
        wb.save(out)
        response = HttpResponse(
            out.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
