"""Enterprises for the credit and inspection tests (synthetic, 合成), and valid credit codes."""

from __future__ import annotations

import datetime as dt

from django.contrib.gis.geos import Point

from gridgov.models import GridCell, Organization

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def check_char(body17: str) -> str:
    """GB 32100-2015 check character (issue 15's rule): 31 − (Σ mod 31), 31 → 0."""
    total = sum(CHARSET.index(c) * w for c, w in zip(body17, WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def credit_code(n: int, district: str = "330106") -> str:
    body = f"91{district}MA{n:07d}"
    return body + check_char(body)


def make_enterprise(n: int, *, cell: GridCell, management_class: str = "key", name: str | None = None):
    """An enterprise in `cell` (its organization too), through the sources model."""
    from sources.models import Enterprise, Permit

    code = credit_code(n, cell.code[:6])
    org = Organization.objects.create(
        name=name or f"测试企业{n}（合成）", kind=Organization.Kind.ENTERPRISE, area=cell.township, synthetic=True
    )
    p = cell.geom.point_on_surface
    e = Enterprise.objects.create(
        credit_code=code,
        name=org.name,
        industry_code="2614",
        management_class=management_class,
        location=Point(round(p.x, 7), round(p.y, 7), srid=4326),
        district=cell.township.parent,
        township=cell.township,
        grid_cell=cell,
        organization=org,
    )
    if management_class != "registration":
        Permit.objects.create(
            enterprise=e, number=f"{code}001P", valid_from=dt.date(2024, 1, 1), valid_to=dt.date(2029, 1, 1)
        )
    return e
