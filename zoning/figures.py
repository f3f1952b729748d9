"""How the zoning pages write areas and shares: one function for the screen, the report and the PDF.

Every figure is rounded once, here, from the unrounded value the database computed; the page,
the HTML report and the PDF all show these strings, so they cannot disagree in the last digit.
Areas are given in m² with thousands separators, and in 公顷 (hectares) and 亩 as planners
count land: 1 公顷 = 10,000 m², 1 亩 = 10,000/15 m² (≈ 666.67 m², the 市制 mu).
"""

from __future__ import annotations

import math

from django.utils.translation import gettext as _

M2_PER_HA = 10_000.0
M2_PER_MU = 10_000.0 / 15.0


def number(value: float, decimals: int) -> str:
    """`value` with thousands separators and `decimals` decimals: 12345.678, 1 → "12,345.7"."""
    return f"{value:,.{decimals}f}"


def _small(value: float, decimals: int) -> str:
    """A positive value that would round to zero shows as "<0.01" rather than "0.00"."""
    text = number(value, decimals)
    if value > 0 and float(text.replace(",", "")) == 0:
        return "<" + number(10.0**-decimals, decimals)
    return text


def area(m2: float) -> dict[str, str]:
    """An area in m², 公顷 and 亩, each rounded once from `m2`, and the three in one text."""
    m2 = max(0.0, float(m2))
    parts = {
        "m2": _small(m2, 0 if m2 >= 10 else 1),
        "ha": _small(m2 / M2_PER_HA, 2),
        "mu": _small(m2 / M2_PER_MU, 2),
    }
    parts["text"] = _("%(m2)s m²（%(ha)s 公顷，%(mu)s 亩）") % parts
    return parts


def hectares(m2: float) -> str:
    """An area in 公顷 with its unit, as a warning states it: "0.52 公顷"."""
    return _("%(ha)s 公顷") % {"ha": area(m2)["ha"]}


def share(pct: float) -> str:
    """A share in percent with one decimal: 45.26 → "45.3%" (a sliver → "<0.1%")."""
    if not math.isfinite(pct):
        return ""
    return _small(max(0.0, pct), 1) + "%"
