"""One error type for the whole platform, and the one place errors become HTTP responses.

Services and selectors raise `GridGovError` subclasses; the API handler below and the page
views turn them into a JSON body that names the field and the problem:
`{"error": "<kind>", "field": "<name or null>", "message": "<text>", "errors": {...}}`.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.http import Http404
from rest_framework import exceptions as drf_exceptions
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler


class GridGovError(Exception):
    status = 400
    kind = "invalid"

    def __init__(self, message: str, *, field: str | None = None, extra: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.extra = extra or {}

    def as_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.kind, "field": self.field, "message": self.message}
        body.update(self.extra)
        return body


class InvalidInput(GridGovError):
    status = 400
    kind = "invalid"


class NotFound(GridGovError):
    """Also raised for objects outside the user's jurisdiction: they answer as if absent."""

    status = 404
    kind = "not_found"


class Forbidden(GridGovError):
    status = 403
    kind = "forbidden"


class Conflict(GridGovError):
    """An illegal state transition, a stale edit, a conflicting resend."""

    status = 409
    kind = "conflict"


class PayloadTooLarge(GridGovError):
    status = 413
    kind = "too_large"


class ErrorSerializer(serializers.Serializer):
    """The error body, as documented in the OpenAPI schema (component `Error`) for every 4xx."""

    error = serializers.CharField(help_text="kind: invalid, not_found, forbidden, conflict, too_large, …")
    field = serializers.CharField(allow_null=True, help_text="the parameter or field at fault, or null")
    message = serializers.CharField(help_text="中文在前 / Chinese first, then English")
    errors = serializers.JSONField(required=False, help_text="every field's problems, for validation errors")

    class Meta:
        ref_name = "Error"


def _first_field(detail: Any) -> str | None:
    if isinstance(detail, dict) and detail:
        key = next(iter(detail))
        return None if key in ("non_field_errors", "__all__") else str(key)
    return None


def _flatten(detail: Any) -> str:
    if isinstance(detail, dict):
        return "; ".join(f"{k}: {_flatten(v)}" for k, v in detail.items())
    if isinstance(detail, list):
        return "; ".join(_flatten(v) for v in detail)
    return str(detail)


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    """Map every error raised under the API to one body shape (DRF's EXCEPTION_HANDLER)."""
    if isinstance(exc, GridGovError):
        return Response(exc.as_body(), status=exc.status)
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        return Response(
            {"error": "invalid", "field": _first_field(detail), "message": _flatten(detail), "errors": detail},
            status=400,
        )
    if isinstance(exc, DataError):
        # A value PostgreSQL cannot take (out of range, bad encoding) that validation let through.
        message = str(exc).splitlines()[0][:200]
        return Response(
            {"error": "invalid", "field": None, "message": f"参数值无效 / invalid value: {message}"}, status=400
        )
    if isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = drf_exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        return None
    detail = response.data
    if isinstance(exc, drf_exceptions.ValidationError):
        response.data = {
            "error": "invalid",
            "field": _first_field(detail),
            "message": _flatten(detail),
            "errors": detail,
        }
    else:
        message = detail.get("detail", _flatten(detail)) if isinstance(detail, dict) else _flatten(detail)
        response.data = {"error": getattr(exc, "default_code", "error"), "field": None, "message": str(message)}
    return response
