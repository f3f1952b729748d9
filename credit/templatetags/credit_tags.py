"""`{% load credit_tags %}{% credit_block enterprise.credit_code %}`: the enterprise page's credit block."""

from django import template

from credit import selectors
from credit.api import credit_body
from credit.models import Level

register = template.Library()


@register.inclusion_tag("credit/_enterprise_credit.html", takes_context=True)
def credit_block(context, credit_code: str) -> dict:
    """Level and date for everyone (公示); score, history and evidence for those who may see them."""
    request = context.get("request")
    user = getattr(request, "user", None)
    body = credit_body(credit_code)
    full = selectors.credit_visible(user=user, credit_code=credit_code)
    return {
        "credit": body,
        "full": full,
        "level_label": Level(body["level"]).label,
        "history": list(reversed(body["history"]))[:30] if full else [],
    }
