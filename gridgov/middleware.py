"""Request middleware of the grid core."""

from __future__ import annotations

from django.http import JsonResponse
from django.utils.translation import gettext as _

from .errors import InvalidInput


class ChineseFirstMiddleware:
    """Serve zh-hans unless the user picked another language with the switch (a cookie).

    Django's LocaleMiddleware would follow the browser's Accept-Language; a bureau's screens
    should read the same for everyone, so the header is ignored and only the explicit choice
    (django_language cookie, set by /i18n/setlang/) counts. Place before LocaleMiddleware.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)


class RejectNulMiddleware:
    """Answer 400 to a query-string parameter that holds a NUL byte.

    PostgreSQL text cannot hold U+0000, so such a value would otherwise reach the database as
    a DataError (a 500) from whichever filter happens to use it. Checked once, here, for every
    page and endpoint; the body names the parameter.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        for name, values in request.GET.lists():
            if "\x00" in name or any("\x00" in v for v in values):
                refused = InvalidInput(
                    _("请求参数含有不可见的 NUL 字符。"), code="nul_character", field=name.replace("\x00", "\\x00")
                )
                return JsonResponse(refused.as_body(), status=refused.status)
        return self.get_response(request)
