from django import template

register = template.Library()


@register.filter
def pct(value, digits: int = 1) -> str:
    """0.8531 → '85.3%'; None → '—'."""
    if value is None or value == "":
        return "—"
    return f"{float(value) * 100:.{int(digits)}f}%"
