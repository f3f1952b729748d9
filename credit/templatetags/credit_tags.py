"""`{% load credit_tags %}{% credit_block enterprise.credit_code %}`: the enterprise page's credit block."""

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _

from credit import selectors
from credit.api import credit_body
from credit.models import CreditRule, EvidenceKind, Level, RepairRequest

register = template.Library()


@register.inclusion_tag("credit/_enterprise_credit.html", takes_context=True)
def credit_block(context, credit_code: str) -> dict:
    """Level and date for everyone (公示); score, history and evidence for those who may see them;
    for the enterprise's own contact, the deductions it may ask to repair, with a form."""
    request = context.get("request")
    user = getattr(request, "user", None)
    full = selectors.credit_visible(user=user, credit_code=credit_code)
    body = credit_body(credit_code, full=full)
    if not full:  # the public sees the level and its date only (公示)
        return {"credit": body, "full": False, "level_label": Level(body["level"]).label}
    labels = dict(CreditRule.objects.values_list("code", "label"))
    levels = dict(Level.choices)
    history = [
        {**h, "rule_label": labels.get(h["rule"], _("规则已停用")), "level_label": levels.get(h["level"], "—")}
        for h in reversed(body["history"])
    ][:30]
    own = selectors.enterprise_for_contact(user) == credit_code
    pending = set(
        RepairRequest.objects.filter(credit_code=credit_code, status=RepairRequest.Status.PENDING).values_list(
            "evidence_id", flat=True
        )
    )
    today = timezone.localdate().isoformat()
    deductions = [
        {
            **e,
            "rule_label": labels.get(e["rule"], _("规则已停用")),
            "kind_label": EvidenceKind(e["kind"]).label,
            "pending": e["id"] in pending,
            "may_repair": own
            and e["repaired_on"] is None
            and e["expires_on"] > today
            and e["repair_from"] <= today
            and e["id"] not in pending,
        }
        for e in body["evidence"]
        if e["points"] < 0 or e["veto"]
    ]
    return {
        "credit": body,
        "full": True,
        "level_label": Level(body["level"]).label,
        "history": history,
        "deductions": deductions,
        "own": own,
    }
