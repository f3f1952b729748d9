"""Reads of the credit app. Enterprises come from the sources app (一企一档), by credit code."""

from __future__ import annotations

from django.db.models import QuerySet

from gridgov.jurisdiction import user_scope
from gridgov.models import AdminArea, Role
from sources.models import Enterprise

from .models import CreditStanding, Evidence, RepairRequest, ScoreChange


def enterprise_area(credit_code: str) -> AdminArea | None:
    """The township (else district) an enterprise lies in, for jurisdiction; None if unknown."""
    e = Enterprise.objects.filter(credit_code=credit_code).select_related("township", "district").first()
    if e is None:
        return None
    return e.township or e.district


def enterprise_for_contact(user) -> str | None:
    """The credit code of the enterprise whose contact the user is (企业联络员), else None."""
    if not getattr(user, "is_authenticated", False) or user.role != Role.ENTERPRISE_CONTACT or not user.organization_id:
        return None
    return Enterprise.objects.filter(organization_id=user.organization_id).values_list("credit_code", flat=True).first()


def enterprise_for_organization(organization_id: int | None) -> str | None:
    if organization_id is None:
        return None
    return Enterprise.objects.filter(organization_id=organization_id).values_list("credit_code", flat=True).first()


def credit_visible(*, user, credit_code: str) -> bool:
    """Staff see every enterprise's credit record; an enterprise contact only its own."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.role == Role.ENTERPRISE_CONTACT and not user.is_superuser:
        return enterprise_for_contact(user) == credit_code
    return True


def standing_get(*, credit_code: str) -> CreditStanding | None:
    return CreditStanding.objects.filter(credit_code=credit_code).first()


def history(*, credit_code: str) -> QuerySet[ScoreChange]:
    return ScoreChange.objects.filter(credit_code=credit_code).select_related("evidence").order_by("at", "id")


def evidence_list(*, credit_code: str) -> QuerySet[Evidence]:
    return Evidence.objects.filter(credit_code=credit_code).order_by("occurred_on", "id")


def repairs_visible(*, user) -> QuerySet[RepairRequest]:
    """Repair requests of the enterprises in the user's scope (supervisors) or of their own (contacts)."""
    qs = RepairRequest.objects.select_related("evidence", "filed_by", "decided_by")
    own = enterprise_for_contact(user)
    if own is not None:
        return qs.filter(credit_code=own)
    scope = user_scope(user)
    if scope.everything:
        return qs
    codes = Enterprise.objects.filter(scope.q()).values_list("credit_code", flat=True)
    return qs.filter(credit_code__in=codes)


def public_list(*, district: str | None = None) -> list[dict]:
    """公示: name, credit code, level and its date, by district, for every enterprise."""
    enterprises = Enterprise.objects.select_related("district").order_by("district__code", "name")
    if district:
        enterprises = enterprises.filter(district__code=district)
    standings = {s.credit_code: s for s in CreditStanding.objects.all()}
    rows = []
    for e in enterprises:
        s = standings.get(e.credit_code)
        rows.append(
            {
                "credit_code": e.credit_code,
                "name": e.name,
                "district": e.district.code if e.district_id else None,
                "district_name": e.district.name if e.district_id else "",
                "level": s.level if s else "green",
                "since": s.level_since if s else None,
            }
        )
    return rows
