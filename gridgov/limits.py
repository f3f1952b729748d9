"""Request bodies refused while they stream, before Django or a view reads them.

Django reads a multipart body in full (spooling files to disk) before a view can look at a
file's size: a 63 MB upload was received before its 413. `RequestBodyLimitMiddleware` answers
413 at once when the declared `Content-Length` is over the limit, and reads a chunked body (no
length) only up to the limit, answering 413 the moment it goes over; a chunked body under the
limit is handed on with its length, as if it had been sent with one (where the server ends
the de-chunked stream, `wsgi.input_terminated`, as gunicorn does; elsewhere 411).

Place it first after SecurityMiddleware (before CSRF, sessions or anything that may touch the
body). The limit is `GRIDGOV_MAX_REQUEST_BYTES`, by default the largest upload
(`GRIDGOV_MAX_UPLOAD_BYTES`, 50 MB) plus 1 MB for the multipart framing and form fields.
Views keep their own, smaller limits per kind of upload.
"""

from __future__ import annotations

import tempfile

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _

MB = 1024 * 1024
CHUNK = 64 * 1024
SPOOL_IN_MEMORY = 2 * MB


def max_request_bytes() -> int:
    explicit = getattr(settings, "GRIDGOV_MAX_REQUEST_BYTES", None)
    if explicit is not None:
        return int(explicit)
    return int(getattr(settings, "GRIDGOV_MAX_UPLOAD_BYTES", 50 * MB)) + MB


class RequestBodyLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        limit = max_request_bytes()
        declared = request.META.get("CONTENT_LENGTH") or ""
        if declared.strip():
            try:
                length = int(declared)
            except ValueError:
                return _refuse(_("请求头 Content-Length 无效。"), code="bad_content_length", status=400)
            if length > limit:
                return _too_large(limit)
        elif "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
            # Only a server that de-chunks and ends the stream (gunicorn) can be read to the end.
            if not request.META.get("wsgi.input_terminated"):
                return _refuse(_("请求须带 Content-Length。"), code="length_required", status=411)
            if not _buffer_chunked(request, limit):
                return _too_large(limit)
        return self.get_response(request)


def _buffer_chunked(request: HttpRequest, limit: int) -> bool:
    """Read a chunked body up to `limit` into a spooled file; False as soon as it is over."""
    source = request.META["wsgi.input"]
    body = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)
    size = 0
    while chunk := source.read(CHUNK):
        size += len(chunk)
        if size > limit:
            body.close()
            return False
        body.write(chunk)
    body.seek(0)
    request.META["CONTENT_LENGTH"] = str(size)
    request._stream = body  # Django reads the body from here (HttpRequest.read)
    return True


def _too_large(limit: int) -> JsonResponse:
    return _refuse(_("请求体过大：最多 %(mb)s MB。") % {"mb": limit // MB}, code="request_too_large", status=413)


def _refuse(message: str, *, code: str, status: int) -> JsonResponse:
    kind = {413: "too_large", 411: "length_required"}.get(status, "invalid")
    body = {"error": kind, "code": code, "field": None, "message": message}
    response = JsonResponse(body, status=status)
    response["Connection"] = "close"  # the rest of the body is not read: the connection cannot be reused
    return response
