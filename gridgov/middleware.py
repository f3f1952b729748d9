"""Request middleware of the grid core."""

from __future__ import annotations


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
