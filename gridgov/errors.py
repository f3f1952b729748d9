"""One error type for the whole platform, and the one place errors become HTTP responses.

Services and selectors raise `GridGovError` subclasses; the API handler below and the page
views turn them into a JSON body that names the field and the problem:
`{"error": "<kind>", "code": "<stable code>", "field": "<name or null>", "message": "<text>",
"errors": {...}}`.

As in Zulip's `JsonableError`: `kind` is the HTTP-level class (invalid, not_found, conflict …),
`code` a stable machine code for this very problem (`reason_required`, `stale_edit` …) that
clients may branch on, `field` the API's field name (clients map it to their own widget), and
`message` a sentence for people, written with `gettext` (Chinese msgid, English in the `.po`)
that names the field by its label as the user sees it, never by its internal name:

    raise InvalidInput(_("请填写调整说明。"), code="reason_required", field="reason")
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions as drf_exceptions
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail
from rest_framework.response import Response
from rest_framework.views import exception_handler


class GridGovError(Exception):
    status = 400
    kind = "invalid"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        field: str | None = None,
        extra: dict[str, Any] | None = None,
    ):
        super().__init__(message)
        self.message = message  # may be a lazy translation: rendered in the request's language
        self.code = code or self.kind
        self.field = field
        self.extra = extra or {}

    def __str__(self) -> str:
        return str(self.message)

    def as_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "error": self.kind,
            "code": self.code,
            "field": self.field,
            "message": str(self.message),
        }
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
    code = serializers.CharField(help_text="stable machine code of this problem (required, too_long, stale_edit …)")
    field = serializers.CharField(allow_null=True, help_text="the parameter or field at fault, or null")
    message = serializers.CharField(help_text="for people, in the request's language (Chinese by default)")
    errors = serializers.JSONField(required=False, help_text="every field's problems, for validation errors")

    class Meta:
        ref_name = "Error"


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    """Map every error raised under the API to one body shape (DRF's EXCEPTION_HANDLER)."""
    if isinstance(exc, GridGovError):
        return Response(exc.as_body(), status=exc.status)
    if isinstance(exc, DjangoValidationError):
        return Response(_django_invalid(exc).as_body(), status=400)
    if isinstance(exc, DataError):
        # A value PostgreSQL cannot take (out of range, bad encoding) that validation let through;
        # PostgreSQL's own text names columns, so it stays in the log.
        return Response(
            InvalidInput(_("参数值超出允许范围。"), code="out_of_range").as_body(),
            status=400,
        )
    if isinstance(exc, drf_exceptions.ValidationError):
        # A serializer validated with raise_exception=True: name the field by its label when the
        # view's serializer is at hand (gridgov.validation does this for views that call it).
        serializer = getattr(exc, "serializer", None)
        return Response(invalid_from_errors(serializer, exc.detail).as_body(), status=400)
    if isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = drf_exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        return None
    detail = response.data
    message = detail.get("detail", "") if isinstance(detail, dict) else detail
    code = getattr(message, "code", None) or getattr(exc, "default_code", "error")
    response.data = {
        "error": getattr(exc, "default_code", "error"),
        "code": code,
        "field": None,
        "message": str(message),
    }
    return response


def _django_invalid(exc: DjangoValidationError) -> InvalidInput:
    """A model's full_clean() failure: the first field's first message, by the field's label."""
    if hasattr(exc, "error_dict"):
        field, errors = next(iter(exc.error_dict.items()))
        first = errors[0]
        field = None if field in ("__all__", "non_field_errors") else field
    else:
        field, first = None, exc.error_list[0]
    message = " ".join(first.messages)
    everything = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    return InvalidInput(message, code=first.code or "invalid", field=field, extra={"errors": everything})


def invalid_from_errors(serializer: serializers.BaseSerializer, errors: Any) -> InvalidInput:
    """Build the InvalidInput for a serializer's `errors` (the first problem leads)."""
    path, detail = _first_error(errors)
    label = _label_for(serializer, path)
    problem = str(detail)
    message = _("%(label)s：%(problem)s") % {"label": label, "problem": problem} if label else problem
    code = getattr(detail, "code", None) or "invalid"
    return InvalidInput(message, code=code, field=".".join(path) or None, extra={"errors": _codes(errors)})


def _first_error(errors: Any, path: tuple[str, ...] = ()) -> tuple[list[str], Any]:
    if isinstance(errors, dict):
        for key, value in errors.items():
            sub = () if key in ("non_field_errors", "__all__") else (str(key),)
            return _first_error(value, path + sub)
    if isinstance(errors, list):
        for index, value in enumerate(errors):
            if value in ({}, [], None, ""):
                continue
            if isinstance(value, dict | list):  # a list of nested objects: name the position
                return _first_error(value, path + (str(index),))
            return list(path), value
    return list(path), errors


def _label_for(serializer: Any, path: list[str]) -> str:
    """The label of the field at `path`, as the user reads it ('' when there is none)."""
    node = serializer
    label = ""
    for part in path:
        if isinstance(node, serializers.ListSerializer | serializers.ListField):
            node = node.child
            if part.isdigit():
                continue
        fields = getattr(node, "fields", None)
        if fields is None or part not in fields:
            break
        node = fields[part]
        label = str(node.label) if node.label else label
    return label


def _codes(errors: Any) -> Any:
    """The errors dict with each problem as {"code", "message"} (machine code kept for clients)."""
    if isinstance(errors, dict):
        return {str(k): _codes(v) for k, v in errors.items()}
    if isinstance(errors, list):
        return [_codes(v) for v in errors]
    if isinstance(errors, ErrorDetail):
        return {"code": errors.code, "message": str(errors)}
    return errors
