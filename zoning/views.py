"""Pages of the zoning app: the unit editor and the site analysis with its printable report.

The report's map and PDF are drawn in a limited child process (zoning/report_render.py, with a
timeout); PDFs are rate-limited per account or client address.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods
from rest_framework import serializers

from gridgov import untrusted
from gridgov.errors import GridGovError
from gridgov.validation import PlainTextField, validated

from . import analysis, conf, labels, report_render, reports, services
from .inputs import SiteInputSerializer
from .models import Category, Dimension
from .throttles import ReportPdfThrottle, ReportThrottle

REPORT_FORMATS = [("html", "HTML"), ("pdf", "PDF")]


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
            "labels": labels.editor(),
            "max_reason": services.MAX_REASON,
        },
    )


def analyze(request):
    """智能研判: draw a site (anyone) or upload a site file (signed in) and see what applies."""
    context = {"rules": analysis.rules_shown(), "labels": labels.analyze()}
    return render(request, "zoning/analyze.html", context)


class ReportSerializer(SiteInputSerializer):
    """The analysis page's report form: the site, the format, a project name."""

    format = serializers.ChoiceField(REPORT_FORMATS, label=gettext_lazy("格式"), default="html")
    project = PlainTextField(
        label=gettext_lazy("项目名称"), max_length=100, required=False, allow_blank=True, default=""
    )


class ReportLinkSerializer(serializers.Serializer):
    """A report's link: `?id=<token>[&format=pdf]`."""

    id = serializers.RegexField(r"^[A-Za-z0-9_-]{16,32}$", label=gettext_lazy("报告编号"))
    format = serializers.ChoiceField(REPORT_FORMATS, label=gettext_lazy("格式"), default="html")


def _problem(request, message: str, status: int, code: str, headers: dict | None = None) -> HttpResponse:
    """A page saying what is wrong (the report opens in its own tab: no JSON for people)."""
    context = {"message": message, "status": status, "code": code}
    response = render(request, "zoning/report_problem.html", context, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _failed(request, exc: untrusted.WorkerFailed) -> HttpResponse:
    code = "report_timeout" if isinstance(exc, untrusted.WorkerTimeout) else "report_failed"
    return _problem(request, _("报告生成超时或失败，请缩小选址范围后重试。"), 503, code)


def _throttled(request, throttle, message: str) -> HttpResponse:
    wait = int(throttle.wait() or 60)
    return _problem(request, message % {"s": wait}, 429, "throttled", headers={"Retry-After": str(wait)})


@require_http_methods(["GET", "POST"])
def report(request):
    """The analysis report, HTML or PDF, with a map drawn on the server.

    POST (the analysis page's form) analyses the site and keeps the analysis (zoning/reports.py);
    GET `?id=` shows a kept one again: the link to bookmark, which the HTML report shows.
    """
    try:
        if request.method == "POST":
            data = validated(ReportSerializer, request.POST)
            throttle = ReportThrottle()
            if not throttle.allow_request(request, None):
                return _throttled(request, throttle, _("生成报告过于频繁，请 %(s)s 秒后再试。"))
            kept = reports.site_report_create(site=data["geom"], project=data["project"], actor=request.user)
        else:
            data = validated(ReportLinkSerializer, request.GET)
            kept = reports.site_report_get(data["id"])
        pdf = data["format"] == "pdf"
        throttle = ReportPdfThrottle()
        if pdf and not throttle.allow_request(request, None):
            return _throttled(request, throttle, _("生成 PDF 报告过于频繁，请 %(s)s 秒后再试。"))
        context = reports.report_context(kept)
    except GridGovError as exc:
        return _problem(request, exc.message, exc.status, exc.code)
    except untrusted.WorkerFailed as exc:
        return _failed(request, exc)
    link = f"{reverse('zoning-report')}?{urlencode({'id': kept.token})}"
    context |= {"link": link, "absolute_link": request.build_absolute_uri(link), "pdf_link": link + "&format=pdf"}
    html = render_to_string("zoning/report.html", context, request=request)
    if not pdf:
        return HttpResponse(html)
    limits = untrusted.Limits(timeout_s=conf.limits().report_timeout_s, memory_mb=1024)
    try:
        document = untrusted.run_isolated(report_render.pdf_from_html, html, limits=limits)
    except untrusted.WorkerFailed as exc:
        return _failed(request, exc)
    response = HttpResponse(document, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="zoning-analysis-{kept.token[:8]}.pdf"'
    return response
