"""Filters of the quality templates: ratios as percentages, changes with their sign."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def quality_pct(value) -> str:
    """0.8387 → "83.9%"; None → "—"."""
    return "—" if value is None else f"{value * 100:.1f}%"


@register.filter
def quality_change(value, kind: str = "") -> str:
    """A change with its sign: +3.2, −1.5; "pct" as percentage points (+4.1 pp → "+4.1"). None → "—"."""
    if value is None:
        return "—"
    number = value * 100 if kind == "pct" else value
    if abs(number) < 0.05:
        return "0"
    return f"{'+' if number > 0 else '−'}{abs(number):.1f}"
