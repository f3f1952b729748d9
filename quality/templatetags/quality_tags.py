"""Filters of the quality templates: ratios as percentages, changes with their sign, moves of rank as arrows."""

from __future__ import annotations

from django import template
from django.utils.html import format_html

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


@register.filter
def quality_rank_change(value) -> str:
    """A change of rank (last month's rank − this month's) after the rank: " ↑2" (moved up),
    " ↓1" (down); "" when it kept its place or was not ranked in one of the months."""
    if not value:
        return ""
    up = value > 0
    return format_html(' <span class="{}">{}{}</span>', "up" if up else "down", "↑" if up else "↓", abs(value))
