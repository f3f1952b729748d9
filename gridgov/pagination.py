"""Pagination for list endpoints: DRF's limit/offset, strict about its parameters.

DRF's own classes fall back to the default on a bad `limit` or `offset`; a client that asked
for something else then pages wrongly without knowing. Here a bad value is a 400 naming the
parameter, like any other input. `GeoJsonLimitOffsetPagination` wraps a page of features in a
FeatureCollection with OGC-style counts and links.
"""

from __future__ import annotations

from collections import OrderedDict

from django.utils.translation import gettext as _
from rest_framework import pagination
from rest_framework.response import Response

from .errors import InvalidInput

# Far beyond any real page, small enough that PostgreSQL never sees an out-of-range OFFSET.
MAX_OFFSET = 10_000_000


def _parse_nonnegative(request, name: str, *, label: str, maximum: int) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput(_("%(label)s应为整数。") % {"label": label}, code="invalid", field=name)
    if value < 0 or value > maximum:
        raise InvalidInput(
            _("%(label)s应在 0 到 %(max)s 之间。") % {"label": label, "max": maximum}, code="out_of_range", field=name
        )
    return value


class LimitOffsetPagination(pagination.LimitOffsetPagination):
    default_limit = 100
    max_limit = 1000

    def get_limit(self, request):
        value = _parse_nonnegative(request, self.limit_query_param, label=_("每页条数"), maximum=self.max_limit)
        return self.default_limit if value is None else max(value, 1)

    def get_offset(self, request):
        value = _parse_nonnegative(request, self.offset_query_param, label=_("起始位置"), maximum=MAX_OFFSET)
        return value or 0


class GeoJsonLimitOffsetPagination(LimitOffsetPagination):
    """A page of GeoJSON features as one FeatureCollection with counts and next/prev links."""

    def get_paginated_response(self, data):
        features = data["features"] if isinstance(data, dict) and "features" in data else data
        return Response(
            OrderedDict(
                [
                    ("type", "FeatureCollection"),
                    ("numberMatched", self.count),
                    ("numberReturned", len(features)),
                    ("next", self.get_next_link()),
                    ("previous", self.get_previous_link()),
                    ("features", features),
                ]
            )
        )

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "properties": {
                "type": {"type": "string", "enum": ["FeatureCollection"]},
                "numberMatched": {"type": "integer"},
                "numberReturned": {"type": "integer"},
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "features": schema.get("properties", {}).get("features", schema),
            },
        }
