"""Pages of the zoning app: the unit editor and the site analysis with its printable report.

The report's map and PDF are drawn in a limited child process (zoning/report_render.py, with a
timeout); PDFs are rate-limited per account or client address.
"""

from __future__ import annotations

import base64

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from rest_framework import serializers

from gridgov import untrusted
from gridgov.errors import GridGovError
from gridgov.validation import PlainTextField, validated

from . import analysis, conf, report_render, services
from .models import Category, ControlUnit, Dimension, Zone
from .serializers import SiteInputSerializer
from .throttles import ReportPdfThrottle


@login_required
def editor(request):
    """Draw, edit, cut and snap units; planners save, everyone signed in views."""
    return render(
        request,
        "zoning/editor.html",
        {
            "can_edit": services.can_edit(request.user),
            "categories": Category.choices,
            "dimensions": Dimension.choices,
        },
    )


def analyze(request):
    """智能研判: draw a site (anyone) or upload a site file (signed in) and see what applies."""
    return render(request, "zoning/analyze.html", {"rules": analysis.verdict_rules()})


class ReportSerializer(SiteInputSerializer):
    format = serializers.ChoiceField([("html", "HTML"), ("pdf", "PDF")], label=gettext_lazy("格式"), default="html")
    project = PlainTextField(
        label=gettext_lazy("项目名称"), max_length=100, required=False, allow_blank=True, default=""
    )


def _report_failed(exc: untrusted.WorkerFailed) -> JsonResponse:
    body = {
        "error": "unavailable",
        "code": "report_timeout" if isinstance(exc, untrusted.WorkerTimeout) else "report_failed",
        "field": None,
        "message": _("报告生成超时或失败，请缩小选址范围后重试。"),
    }
    return JsonResponse(body, status=503)


def _map_png(site, overlaps: list[dict]) -> bytes:
    codes = [o["code"] for o in overlaps]
    shapes = [(bytes(u.geom.wkb), u.category, u.code) for u in ControlUnit.objects.filter(code__in=codes)]
    shapes += [(bytes(z.geom.wkb), z.layer, z.code) for z in Zone.objects.filter(code__in=codes)]
    limits = untrusted.Limits(timeout_s=conf.limits().report_timeout_s, memory_mb=1024)
    return untrusted.run_isolated(report_render.map_png, bytes(site.wkb), shapes, limits=limits)


@require_POST
def report(request):
    """The printable analysis report, HTML or PDF, with a map drawn on the server."""
    try:
        data = validated(ReportSerializer, request.POST)
    except GridGovError as exc:
        return JsonResponse(exc.as_body(), status=exc.status)
    pdf = data["format"] == "pdf"
    throttle = ReportPdfThrottle()
    if pdf and not throttle.allow_request(request, None):
        wait = int(throttle.wait() or 60)
        body = {
            "error": "throttled",
            "code": "throttled",
            "field": None,
            "message": _("生成 PDF 报告过于频繁，请 %(s)s 秒后再试。") % {"s": wait},
        }
        return JsonResponse(body, status=429, headers={"Retry-After": str(wait)})
    try:
        result = analysis.site_analyze(data["geom"])
        png = _map_png(data["geom"], result["overlaps"])
    except GridGovError as exc:
        return JsonResponse(exc.as_body(), status=exc.status)
    except untrusted.WorkerFailed as exc:
        return _report_failed(exc)
    context = {
        "result": result,
        "map_image": "data:image/png;base64," + base64.b64encode(png).decode(),
        "generated_at": timezone.localtime(),
        "project": data["project"],
        "rules": analysis.verdict_rules(),
        "user": request.user,
    }
    html = render_to_string("zoning/report.html", context, request=request)
    if not pdf:
        return HttpResponse(html)
    limits = untrusted.Limits(timeout_s=conf.limits().report_timeout_s, memory_mb=1024)
    try:
        document = untrusted.run_isolated(report_render.pdf_from_html, html, limits=limits)
    except untrusted.WorkerFailed as exc:
        return _report_failed(exc)
    response = HttpResponse(document, content_type="application/pdf")
    response["Content-Disposition"] = 'inline; filename="zoning-analysis.pdf"'
    return response
