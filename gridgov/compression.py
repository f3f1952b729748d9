"""Compress dynamic responses (JSON, GeoJSON, vector tiles, CSV, HTML) with brotli or gzip.

Django's GZipMiddleware offers gzip only and compresses everything at one level. Here the
encoding follows `Accept-Encoding` (brotli when the client takes it at least as gladly as gzip:
smaller and, at the qualities used, faster), the effort follows the size (a large GeoJSON page
is compressed at the fastest setting, which on PostGIS output costs milliseconds where gzip -6
costs tens), streamed bodies are compressed as they stream, and bodies that are small, already
encoded, not compressible (images, archives, PDF) or marked no-transform are left alone.
Static files never get here: WhiteNoise, placed before this middleware, answers them with its
own pre-compressed copies. Place it right after CsrfViewMiddleware: it must see the response
before that middleware clears its mark that the token was used (see BREACH).

BREACH: compressing a body that holds a secret next to text an attacker chooses lets the
attacker read the secret from the compressed sizes. A response into which Django rendered the
CSRF token (every page with a form; Django marks the request) is therefore never compressed.
What is compressed is then either public (OGC, tiles, Open311) or answers a token-authenticated
client or a same-site request: the session cookie is SameSite=Lax, so a cross-site page cannot
make the browser fetch those with the user's session, and the BREACH attacker gets only the
public's answer.
"""

from __future__ import annotations

import zlib

import brotli
from django.utils.cache import patch_vary_headers

MIN_SIZE = 1024  # below this the encoding costs more than it saves
LARGE = 64 * 1024  # from here on, the fastest setting of each encoder (milliseconds, not tens)
COMPRESSIBLE = (
    "text/",
    "application/json",
    "application/geo+json",
    "application/geo+json-seq",
    "application/schema+json",
    "application/vnd.oai.openapi+json",
    "application/vnd.mapbox-vector-tile",
    "application/vnd.mapbox.style+json",
    "application/x-protobuf",
    "application/javascript",
    "application/xml",
    "image/svg+xml",
)
# (brotli quality, gzip level) for small and for large bodies.
SMALL_EFFORT, LARGE_EFFORT = (4, 6), (1, 1)


def choose_encoding(accept_encoding: str) -> str | None:
    """'br', 'gzip' or None, by the q-values of an Accept-Encoding header."""
    q: dict[str, float] = {}
    for part in accept_encoding.split(","):
        name, _, rest = part.strip().partition(";")
        name = name.strip().lower()
        if not name:
            continue
        weight = 1.0
        rest = rest.strip()
        if rest.startswith("q="):
            try:
                weight = float(rest[2:])
            except ValueError:
                weight = 0.0
        q[name] = weight
    star = q.get("*", 0.0)
    br, gzip = q.get("br", star), q.get("gzip", q.get("x-gzip", star))
    if br > 0 and br >= gzip:
        return "br"
    if gzip > 0:
        return "gzip"
    return None


class _Encoder:
    def __init__(self, encoding: str, large: bool):
        quality, level = LARGE_EFFORT if large else SMALL_EFFORT
        if encoding == "br":
            self._c = brotli.Compressor(quality=quality)
            self.compress, self.finish = self._c.process, self._c.finish
        else:
            self._c = zlib.compressobj(level, zlib.DEFLATED, 31)  # 31: gzip framing
            self.compress, self.finish = self._c.compress, self._c.flush

    def whole(self, data: bytes) -> bytes:
        return self.compress(data) + self.finish()


def _compressible(request, response) -> bool:
    if response.has_header("Content-Encoding") or request.method == "HEAD":
        return False
    if "no-transform" in response.get("Cache-Control", "") or getattr(response, "file_to_stream", None) is not None:
        return False
    if request.META.get("CSRF_COOKIE_NEEDS_UPDATE"):  # the CSRF token is in this body: see BREACH above
        return False
    content_type = response.get("Content-Type", "").lower()
    return response.status_code < 300 and content_type.startswith(COMPRESSIBLE)


class CompressionMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not _compressible(request, response):
            return response
        patch_vary_headers(response, ("Accept-Encoding",))
        encoding = choose_encoding(request.META.get("HTTP_ACCEPT_ENCODING", ""))
        if encoding is None:
            return response
        if response.streaming:
            encoder = _Encoder(encoding, large=True)
            response.streaming_content = self._stream(encoder, response.streaming_content)
            del response["Content-Length"]
        else:
            if len(response.content) < MIN_SIZE:
                return response
            compressed = _Encoder(encoding, large=len(response.content) >= LARGE).whole(response.content)
            if len(compressed) >= len(response.content):
                return response
            response.content = compressed
            response["Content-Length"] = str(len(compressed))
        if response.has_header("ETag"):  # the bytes differ, the resource does not
            response["ETag"] = "W/" + response["ETag"].removeprefix("W/")
        response["Content-Encoding"] = encoding
        return response

    @staticmethod
    def _stream(encoder: _Encoder, chunks):
        for chunk in chunks:
            data = encoder.compress(chunk)
            if data:
                yield data
        yield encoder.finish()
