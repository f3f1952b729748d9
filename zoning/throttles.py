"""Rate limits of the zoning app's expensive requests: imports, site files, analysis PDFs.

Counted per account when signed in, otherwise per client address (DRF's `get_ident`, which
trusts forwarded headers as settings say). Rates come from
`REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][scope]` when set there, else the defaults below.
"""

from __future__ import annotations

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle


class ZoningThrottle(SimpleRateThrottle):
    default_rate = "60/hour"

    def get_rate(self) -> str:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope) or self.default_rate

    def get_cache_key(self, request, view) -> str:
        user = getattr(request, "user", None)
        ident = f"user-{user.pk}" if user is not None and user.is_authenticated else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


class ImportThrottle(ZoningThrottle):
    scope = "zoning_import"
    default_rate = "60/hour"


class SiteUploadThrottle(ZoningThrottle):
    """Site files only: a drawn site (a JSON body) is cheap and stays unlimited."""

    scope = "zoning_site_upload"
    default_rate = "60/hour"

    def allow_request(self, request, view) -> bool:
        if not (request.content_type or "").startswith("multipart/form-data"):
            return True
        return super().allow_request(request, view)


class ReportPdfThrottle(ZoningThrottle):
    scope = "zoning_report_pdf"
    default_rate = "30/hour"


class ReportThrottle(ZoningThrottle):
    """Reports kept for their link (zoning/reports.py): each one is a row and a map drawn."""

    scope = "zoning_report"
    default_rate = "120/hour"
