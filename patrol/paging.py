"""Paging of the list pages (case list, 曝光台) with the API's strict limit/offset rules.

`gridgov.pagination.LimitOffsetPagination` answers a bad `limit` or `offset` with an InvalidInput
naming it; a page shows that message and the first page instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.db.models import QuerySet
from django.http import HttpRequest
from rest_framework.request import Request

from gridgov.errors import GridGovError
from gridgov.pagination import LimitOffsetPagination


@dataclass(frozen=True)
class Page:
    rows: list
    total: int
    offset: int
    limit: int
    previous_query: str | None  # the query string of the previous page, or None on the first
    next_query: str | None

    @property
    def first(self) -> int:
        return self.offset + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return self.offset + len(self.rows)


def page_of(request, qs: QuerySet, *, limit: int = 100) -> tuple[Page, GridGovError | None]:
    """One page of `qs` for the request's `limit`/`offset`; a bad value gives the first page
    and the error to show."""
    pager = LimitOffsetPagination()
    pager.default_limit = limit
    problem = None
    try:
        rows = list(pager.paginate_queryset(qs, Request(request)))
    except GridGovError as exc:
        problem = exc
        pager = LimitOffsetPagination()
        pager.default_limit = limit
        rows = list(pager.paginate_queryset(qs, Request(_without_paging(request))))
    keep = {k: v for k, v in request.GET.items() if k not in ("limit", "offset") and v}

    def query(offset: int) -> str:
        return "?" + urlencode({**keep, "offset": offset, **({"limit": pager.limit} if pager.limit != limit else {})})

    offset, size = pager.offset, pager.limit
    return (
        Page(
            rows=rows,
            total=pager.count,
            offset=offset,
            limit=size,
            previous_query=query(max(0, offset - size)) if offset > 0 else None,
            next_query=query(offset + size) if offset + size < pager.count else None,
        ),
        problem,
    )


def _without_paging(request) -> HttpRequest:
    """A bare request with the same query string less limit and offset."""
    bare = HttpRequest()
    bare.META = request.META
    bare.GET = request.GET.copy()
    bare.GET.pop("limit", None)
    bare.GET.pop("offset", None)
    return bare
