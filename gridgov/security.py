"""Browser-side defences: the Content-Security-Policy, and sessions that end when left idle.

Django 5.2 has no CSP of its own. Pages load scripts only from this site or inline with the
request's nonce (`<script nonce="{{ csp_nonce }}">`; django-leaflet's admin widgets read the
same `request.csp_nonce`); no inline event handlers, no eval, no plugins, no framing. Styles may
be inline (Leaflet and the admin position things with style attributes). Images and fetches may
also reach the configured basemap's tile servers (the mobile service worker caches tiles).
"""

from __future__ import annotations

import secrets
import time

from django.conf import settings

# Tile servers of each basemap (static/gridgov/map.js draws from these).
BASEMAP_HOSTS = {
    "tianditu": "https://*.tianditu.gov.cn",
    "amap": "https://*.is.autonavi.com",
    "osm": "https://tile.openstreetmap.org",
    "none": "",
}


def content_security_policy(nonce: str) -> str:
    tiles = BASEMAP_HOSTS.get(settings.GRIDGOV_BASEMAP, "")
    directives = {
        "default-src": "'self'",
        "script-src": f"'self' 'nonce-{nonce}'",
        "style-src": "'self' 'unsafe-inline'",
        "img-src": f"'self' data: blob: {tiles}".strip(),
        "font-src": "'self' data:",
        "connect-src": f"'self' {tiles}".strip(),
        "worker-src": "'self'",
        "manifest-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


class ContentSecurityPolicyMiddleware:
    """Give each request a nonce (`request.csp_nonce`) and each response the policy.

    CSP_REPORT_ONLY=1 sends it as Content-Security-Policy-Report-Only (to try a change first).
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.header = (
            "Content-Security-Policy-Report-Only" if settings.GRIDGOV_CSP_REPORT_ONLY else "Content-Security-Policy"
        )

    def __call__(self, request):
        request.csp_nonce = secrets.token_urlsafe(16)
        response = self.get_response(request)
        if self.header not in response:
            response[self.header] = content_security_policy(request.csp_nonce)
        return response


def csp(request) -> dict:
    """Template context: `csp_nonce` for the page's inline scripts."""
    return {"csp_nonce": getattr(request, "csp_nonce", "")}


class IdleSessionMiddleware:
    """End a signed-in session SESSION_IDLE_TIMEOUT (SESSION_COOKIE_AGE) after its last use.

    Django's session expires SESSION_COOKIE_AGE after it was last saved; this saves an active
    session again (new expiry, new cookie) once a twentieth of that age has passed since the
    last refresh, rather than on every request (SESSION_SAVE_EVERY_REQUEST would write the
    session table on each one). Place it after SessionMiddleware.
    """

    KEY = "_gridgov_touched"

    def __init__(self, get_response):
        self.get_response = get_response
        self.every = max(settings.SESSION_COOKIE_AGE // 20, 1)

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None and session.session_key and "_auth_user_id" in session:
            now = int(time.time())
            if now - session.get(self.KEY, 0) >= self.every:
                session[self.KEY] = now
        return response
