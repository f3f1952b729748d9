"""Pages of the monthly 通报: the document (HTML, PDF), its progress while the worker renders it,
and the state of that rendering for the progress page (JSON).

A browser asks for the PDF: if the rendering for the current data is kept, it downloads at once;
otherwise the worker is asked to make it and the answer is a page (202) that shows its progress
and starts the download when it is done. The HTML is made in the request on a first view and
kept (the PDF reuses it). A wrong month is a page saying so (400), like the other errors.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from gridgov.errors import InvalidInput

from . import report_cache, tasks
from .filters import last_month, parse_month
from .models import MonthlyReport


def _bad_period(request, exc: InvalidInput):
    return render(
        request,
        "dashboard/report_error.html",
        {"message": exc.message, "suggestion": last_month()},
        status=400,
    )


def monthly_report(request, period: str, fmt: str):
    """The 通报 for the user's jurisdiction, as HTML or PDF. Anonymous → 403."""
    if not request.user.is_authenticated:
        return render(request, "403.html", status=403)
    try:
        parse_month(period)
    except InvalidInput as exc:
        return _bad_period(request, exc)
    if fmt == "html":
        return HttpResponse(report_cache.html_for(request.user, period))
    entry = report_cache.pdf_entry(request.user, period, queue=tasks.queue)
    if entry.state == MonthlyReport.State.DONE and entry.pdf:
        response = HttpResponse(bytes(entry.pdf), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="monthly-report-{period}.pdf"'
        return response
    return render(
        request,
        "dashboard/report_progress.html",
        {
            "period": period,
            "status_url": reverse("dashboard-monthly-report-status", args=[period]),
            "pdf_url": request.path,
            "html_url": reverse("dashboard-monthly-report", args=[period, "html"]),
            "entry": entry,
        },
        status=202,
    )


class ReportStatusView(APIView):
    """How far the worker is with the user's PDF of this month (the progress page polls it)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(summary="月度通报 PDF 的生成进度（进度页轮询）", responses={200: OpenApiTypes.OBJECT})
    def get(self, request, period: str):
        parse_month(period)  # InvalidInput: 400 naming the period
        entry = MonthlyReport.objects.filter(
            period=period, reader=report_cache.reader_key(request.user), language=request.LANGUAGE_CODE
        ).first()
        if entry is None:
            return Response({"period": period, "state": "none", "progress": 0, "stage": "", "ready": False})
        ready = entry.state == MonthlyReport.State.DONE and bool(entry.pdf)
        failed = entry.state == MonthlyReport.State.FAILED
        return Response(
            {
                "period": period,
                "state": entry.state,
                "state_label": entry.get_state_display(),
                "progress": entry.progress,
                "stage": entry.stage,
                "ready": ready,
                "error": _("通报生成失败，请稍后重试或联系管理员。") if failed else "",
            }
        )


monthly_report_status = ReportStatusView.as_view()
