"""The imagery API under /api/geodata/: thin views over services and selectors."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_gis.fields import GeometryField
from rest_framework_gis.pagination import GeoJsonPagination
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from gridgov.validation import validated

from . import selectors
from .models import CandidateStatus, ChangeCandidate, ChangeType, DetectionJob, GridCellSummary, Scene
from .services.jobs import job_cancel, job_create
from .services.review import candidate_confirm, candidate_dismiss


class CandidateFilter(serializers.Serializer):
    """Query string of the candidate list (API and the /imagery/ page)."""

    job = serializers.IntegerField(required=False, min_value=1, label=_("任务编号"))
    grid_cell = serializers.RegexField(r"^\d{14}$", required=False, label=_("网格编码"))
    violation = serializers.BooleanField(required=False, allow_null=True, default=None, label=_("疑似违规"))
    status = serializers.ChoiceField(CandidateStatus.choices, required=False, label=_("审核状态"))
    change_type = serializers.ChoiceField(ChangeType.choices, required=False, label=_("变化类型"))
    min_area = serializers.FloatField(required=False, min_value=0, max_value=1e9, label=_("最小面积（平方米）"))
    sort = serializers.ChoiceField(
        [(k, k) for k in selectors.SORTS], required=False, default="violation", label=_("排序")
    )


class GridSummaryFilter(serializers.Serializer):
    job = serializers.IntegerField(min_value=1, label=_("任务编号"))


class CandidateFeatureSerializer(GeoFeatureModelSerializer):
    """One candidate as a GeoJSON feature (WGS84); properties follow the CLI's --output."""

    geom = GeometryField(precision=7)
    job = serializers.IntegerField(source="job_id", read_only=True)
    change_type_label = serializers.CharField(source="get_change_type_display", read_only=True)
    area_m2 = serializers.SerializerMethodField()
    confidence = serializers.SerializerMethodField()
    grid_cell = serializers.CharField(source="grid_cell.code", default=None, read_only=True, allow_null=True)
    zones = serializers.ListField(source="zone_codes", child=serializers.CharField(), read_only=True)
    zone_hits = serializers.JSONField(source="zones", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    district = serializers.CharField(source="district.code", default=None, read_only=True, allow_null=True)
    township = serializers.CharField(source="township.code", default=None, read_only=True, allow_null=True)
    issue_id = serializers.IntegerField(read_only=True, allow_null=True)  # null until confirmed
    chips = serializers.SerializerMethodField()

    class Meta:
        model = ChangeCandidate
        geo_field = "geom"
        fields = [
            "id",
            "job",
            "change_type",
            "change_type_label",
            "area_m2",
            "confidence",
            "mean_index_change",
            "index",
            "grid_cell",
            "zones",
            "zone_hits",
            "violation",
            "violation_reason",
            "status",
            "status_label",
            "review_reason",
            "reviewed_at",
            "district",
            "township",
            "issue_id",
            "chips",
        ]

    def get_area_m2(self, obj) -> float:
        return round(obj.area_m2, 2)

    def get_confidence(self, obj) -> float:
        return round(obj.confidence, 3)

    def get_chips(self, obj) -> dict:
        return {w: reverse("geodata-chip", args=[obj.pk, w]) for w in ("before", "after")}


class CandidatePagination(GeoJsonPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class SceneSerializer(serializers.ModelSerializer):
    """A scene by its name: server file paths are for administrators (and the command line)."""

    sensor_label = serializers.CharField(source="get_sensor_display", read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is not None and request.user.is_superuser:
            data["path"] = instance.path
        return data

    class Meta:
        model = Scene
        fields = [
            "id",
            "name",
            "kind",
            "kind_label",
            "sensor",
            "sensor_label",
            "acquired",
            "crs",
            "band_count",
            "width",
            "height",
            "pixel_size",
            "nodata",
            "sun_zenith",
            "sun_azimuth",
            "synthetic",
        ]


class JobSerializer(serializers.ModelSerializer):
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    before = SceneSerializer(read_only=True)
    after = SceneSerializer(read_only=True)

    class Meta:
        model = DetectionJob
        fields = [
            "id",
            "status",
            "status_label",
            "progress",
            "message",
            "notes",
            "sensor",
            "params",
            "before",
            "after",
            "created_at",
            "started_at",
            "finished_at",
            "cancel_requested",
            "candidate_count",
            "synthetic",
        ]


class JobCreateSerializer(serializers.Serializer):
    before = serializers.IntegerField(help_text="前时相影像编号")
    after = serializers.IntegerField(help_text="后时相影像编号")
    params = serializers.DictField(required=False, help_text="tile_size, halo, min_area_m2, thresholds, workers")


class SummarySerializer(serializers.ModelSerializer):
    grid_cell = serializers.CharField(source="cell.code")
    name = serializers.CharField(source="cell.name")
    township = serializers.CharField(source="cell.township.code")
    changed_m2 = serializers.FloatField()

    class Meta:
        model = GridCellSummary
        fields = [
            "grid_cell",
            "name",
            "township",
            "vegetation_loss_m2",
            "construction_m2",
            "water_change_m2",
            "changed_m2",
            "valid_area_m2",
            "candidate_count",
        ]


class CandidateListView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="变化图斑（GeoJSON，分页；按违规、面积或置信度排序）",
        parameters=[
            CandidateFilter,
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int, description="每页条数（最多 500）"),
        ],
        responses={200: CandidateFeatureSerializer(many=True)},
    )
    def get(self, request):
        filters = validated(CandidateFilter, request.query_params)
        qs = selectors.candidates(request.user, **filters)
        pager = CandidatePagination()
        page = pager.paginate_queryset(qs, request, view=self)
        return pager.get_paginated_response(CandidateFeatureSerializer(page, many=True).data)


class CandidateDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(summary="变化图斑详情", responses={200: CandidateFeatureSerializer})
    def get(self, request, pk: int):
        return Response(CandidateFeatureSerializer(selectors.candidate_get(request.user, pk)).data)


class CandidateConfirmView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="确认图斑并生成巡查案件（来源：遥感监测）",
        request=inline_serializer("CandidateConfirm", {"note": serializers.CharField(required=False)}),
        responses={
            201: inline_serializer(
                "CandidateConfirmed", {"issue_id": serializers.IntegerField(), "candidate": serializers.IntegerField()}
            )
        },
    )
    def post(self, request, pk: int):
        candidate = selectors.candidate_get(request.user, pk)
        note = request.data.get("note", "") if hasattr(request.data, "get") else ""
        issue = candidate_confirm(candidate=candidate, user=request.user, note=str(note or ""))
        return Response({"issue_id": issue.pk, "candidate": candidate.pk}, status=201)


class CandidateDismissView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="排除图斑（须填写理由）",
        request=inline_serializer("CandidateDismiss", {"reason": serializers.CharField()}),
        responses={200: CandidateFeatureSerializer},
    )
    def post(self, request, pk: int):
        candidate = selectors.candidate_get(request.user, pk)
        reason = request.data.get("reason") if hasattr(request.data, "get") else None
        c = candidate_dismiss(candidate=candidate, user=request.user, reason=reason)
        return Response(CandidateFeatureSerializer(c).data)


class GridSummaryView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="各网格变化面积统计",
        parameters=[GridSummaryFilter],
        responses={
            200: inline_serializer(
                "GridSummary",
                {
                    "job": serializers.IntegerField(),
                    "count": serializers.IntegerField(),
                    "cells": SummarySerializer(many=True),
                },
            )
        },
    )
    def get(self, request):
        job = validated(GridSummaryFilter, request.query_params)["job"]
        rows = list(selectors.grid_summary(request.user, job=job).order_by("cell__code"))
        return Response({"job": job, "count": len(rows), "cells": SummarySerializer(rows, many=True).data})


class QualityView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="审核结果统计（确认率 = 确认 / 已审核），按任务与变化类型",
        parameters=[OpenApiParameter("job", int)],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        job = request.query_params.get("job")
        j = selectors.job_get(request.user, job) if job else None
        selectors.jobs(request.user)  # permission
        return Response({"results": selectors.review_quality(job=j)})


class SceneListView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(summary="已登记影像", responses={200: SceneSerializer(many=True)})
    def get(self, request):
        rows = selectors.scenes(request.user)[:500]
        return Response(SceneSerializer(rows, many=True, context={"request": request}).data)


class JobListView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(summary="变化检测任务", responses={200: JobSerializer(many=True)})
    def get(self, request):
        return Response(JobSerializer(selectors.jobs(request.user)[:100], many=True, context={"request": request}).data)

    @extend_schema(summary="发起变化检测（后台任务）", request=JobCreateSerializer, responses={201: JobSerializer})
    def post(self, request):
        s = JobCreateSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        before = selectors.scene_get(request.user, s.validated_data["before"], field="before")
        after = selectors.scene_get(request.user, s.validated_data["after"], field="after")
        params = s.validated_data.get("params") or {}
        job = job_create(before=before, after=after, user=request.user, params=params)
        return Response(JobSerializer(job, context={"request": request}).data, status=201)


class JobDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(summary="任务状态与进度", responses={200: JobSerializer})
    def get(self, request, pk: int):
        return Response(JobSerializer(selectors.job_get(request.user, pk), context={"request": request}).data)


class JobCancelView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(summary="取消任务", request=None, responses={200: JobSerializer})
    def post(self, request, pk: int):
        job = job_cancel(job=selectors.job_get(request.user, pk), user=request.user)
        return Response(JobSerializer(job, context={"request": request}).data)
