"""Enterprises for the credit and inspection tests (synthetic, 合成), registered through the
sources app's own service, and valid credit codes."""

from __future__ import annotations

import datetime as dt

from django.contrib.gis.geos import Point

from gridgov.models import GridCell
from sources.codes import check_character
from sources.services import enterprise_register


def _spot(cell):
    """A point inside the cell a little off its point_on_surface (where other demos put theirs)."""
    p, c = cell.geom.point_on_surface, cell.geom.centroid
    for t in (0.35, 0.2, 0.1):
        q = Point(p.x + t * (c.x - p.x), p.y + t * (c.y - p.y), srid=p.srid)
        if cell.geom.covers(q):
            return q
    return p


def credit_code(n: int, district: str = "330106") -> str:
    body = f"91{district}MA{n:07d}"
    return body + check_character(body)


def make_enterprise(n: int, *, cell: GridCell, management_class: str = "key", name: str | None = None):
    """An enterprise at a point of `cell`, with a permit unless it is registration class."""
    code = credit_code(n, cell.code[:6])
    p = _spot(cell)
    permit = None
    if management_class != "registration":
        permit = {"number": f"{code}001P", "valid_from": dt.date(2024, 1, 1), "valid_to": dt.date(2029, 1, 1)}
    return enterprise_register(
        actor=None,
        credit_code=code,
        name=name or f"测试企业{n}（合成）",
        industry_code="2614",
        management_class=management_class,
        lat=round(p.y, 7),
        lon=round(p.x, 7),
        permit=permit,
        synthetic=True,
    )
