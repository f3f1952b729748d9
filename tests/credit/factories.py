"""Enterprises for the credit and inspection tests (synthetic, 合成), registered through the
sources app's own service, and valid credit codes."""

from __future__ import annotations

import datetime as dt

from gridgov.models import GridCell
from sources.codes import check_character
from sources.services import enterprise_register


def credit_code(n: int, district: str = "330106") -> str:
    body = f"91{district}MA{n:07d}"
    return body + check_character(body)


def make_enterprise(n: int, *, cell: GridCell, management_class: str = "key", name: str | None = None):
    """An enterprise at a point of `cell`, with a permit unless it is registration class."""
    code = credit_code(n, cell.code[:6])
    p = cell.geom.point_on_surface
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
