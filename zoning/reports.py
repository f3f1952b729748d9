"""Site analysis reports (智能研判报告): kept, so that a report has a link that can be bookmarked.

The analysis page posts the site to `/zoning/analyze/report/`; the analysis is run once and kept
as a `SiteReport` (zoning/models.py says why the link holds a token, not the geometry), and the
answer is the report, whose address bar then shows `/zoning/analyze/report/?id=<token>`: a
GET that anyone holding the link can open again, as HTML or `&format=pdf`. What a report says
is fixed when it is made (the result, the zoning versions of that moment on its map); the words
follow the reader's language. Writing one is rate-limited (`ReportThrottle`, like the PDFs).

The map is drawn in a limited child (zoning/report_render.py) and kept in the cache per report
and language: it is drawn once per language, not on each visit.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets

from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from gridgov import untrusted
from gridgov.errors import NotFound

from . import analysis, conf, report_render
from .models import Category, Layer, SiteReport, ZoningVersion

MAP_CACHE_SECONDS = 30 * 24 * 3600


def _zoning_state() -> list:
    """What changes whenever the zoning data do: the last version, the last update, the counts."""
    # Raw SQL: four aggregates in one round trip.
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT (SELECT max(id) FROM zoning_zoningversion),
                      (SELECT max(updated_at) FROM zoning_controlunit), (SELECT count(*) FROM zoning_controlunit),
                      (SELECT max(updated_at) FROM zoning_zone), (SELECT count(*) FROM zoning_zone)"""
        )
        return [str(v) for v in cursor.fetchone()]


def _digest(site, project: str) -> str:
    rules = [(r.get("id"), r.get("verdict"), r.get("when")) for r in analysis.verdict_rules()]
    material = json.dumps([site.ewkb.hex(), project, _zoning_state(), rules], sort_keys=True, default=str)
    return hashlib.sha256(material.encode()).hexdigest()


@transaction.atomic
def site_report_create(*, site, project: str, actor) -> SiteReport:
    """Analyse a site and keep the analysis (or find the same one kept before) for its report."""
    digest = _digest(site, project)
    kept = SiteReport.objects.filter(digest=digest).first()
    if kept is not None:
        return kept
    report = SiteReport(
        token=secrets.token_urlsafe(16),
        digest=digest,
        created_at=timezone.now(),
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
        project=project,
        site=site,
        result=analysis.site_analyze(site),
    )
    report.full_clean()
    report.save()
    return report


def site_report_get(token: str) -> SiteReport:
    report = SiteReport.objects.filter(token=token).first() if token else None
    if report is None:
        raise NotFound(_("没有这份研判报告。"), code="report_not_found", field="id")
    return report


def _map_labels() -> dict[str, str]:
    labels = {value: str(label) for value, label in [*Category.choices, *Layer.choices]}
    labels.update({"site": _("选址范围"), "north": _("北"), "m": _("米"), "km": _("千米")})
    return labels


def map_png(report: SiteReport) -> bytes:
    """The report's map in the reader's language: from the cache, or drawn in the child and kept."""
    key = f"zoning:report-map:{report.token}:{get_language()}"
    png = cache.get(key)
    if png is None:
        codes = [o["code"] for o in report.result["overlaps"]]
        at = report.created_at
        versions = (
            ZoningVersion.objects.filter(code__in=codes, valid_from__lte=at)
            .exclude(valid_to__lte=at)
            .exclude(action="delete")
        )
        shapes = [(bytes(v.geom.wkb), v.category or v.layer, v.code) for v in versions]
        limits = untrusted.Limits(timeout_s=conf.limits().report_timeout_s, memory_mb=1024)
        png = untrusted.run_isolated(
            report_render.map_png, bytes(report.site.wkb), shapes, _map_labels(), limits=limits
        )
        cache.set(key, png, MAP_CACHE_SECONDS)
    return png


def report_context(report: SiteReport) -> dict:
    """What templates/zoning/report.html shows, in the reader's language."""
    return {
        "report": report,
        "result": analysis.present(report.result),
        "map_image": "data:image/png;base64," + base64.b64encode(map_png(report)).decode(),
        "generated_at": timezone.localtime(report.created_at),
        "project": report.project,
        "rules": analysis.rules_shown(),
    }
