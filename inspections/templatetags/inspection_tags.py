"""`{% load inspection_tags %}{% inspections_block enterprise.credit_code %}`: the enterprise
page's inspections: the done ones for everyone, the confidential ones for who may see them."""

from django import template

from inspections import selectors

register = template.Library()


@register.inclusion_tag("inspections/_enterprise_inspections.html", takes_context=True)
def inspections_block(context, credit_code: str) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None)
    return {"inspections": selectors.inspections_of_enterprise(credit_code=credit_code, user=user)}
