"""The public credit list (公示), by district, and the enterprise contact's way to its own file."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from gridgov.errors import GridGovError
from gridgov.selectors import district_choices
from gridgov.validation import validated

from . import selectors
from .api import PublicFilter
from .models import Level


def public_list(request):
    try:
        district = validated(PublicFilter, request.GET).get("district")
    except GridGovError:
        district = None
    rows = selectors.public_list(district=district)
    districts = district_choices()
    counts = {value: sum(1 for r in rows if r["level"] == value) for value in Level.values}
    return render(
        request,
        "credit/public_list.html",
        {"rows": rows, "districts": districts, "district": district, "levels": Level.choices, "counts": counts},
    )


@login_required
def mine(request):
    """An enterprise contact's landing: its enterprise's file (一企一档, credit and repair);
    anyone else goes to the city map."""
    code = selectors.enterprise_for_contact(request.user)
    return redirect("sources-enterprise-page", credit_code=code) if code else redirect("home")
