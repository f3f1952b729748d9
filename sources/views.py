"""Pages of pollution sources: the enterprise file (一企一档) and a case's monitoring chart."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone

from gridgov.errors import NotFound
from monitoring.factors import factor_label, factor_unit
from monitoring.selectors import is_online, online_cutoff
from patrol.selectors import issue_get

from . import selectors


def enterprise_page(request, credit_code: str):
    """The enterprise's file: public fields for everyone; permit, outlets and their data
    against the limits, and cases, for staff whose jurisdiction holds it."""
    try:
        enterprise = selectors.enterprise_get(user=request.user, credit_code=credit_code)
    except NotFound:
        return render(request, "sources/not_found.html", status=404)
    outlets, cases = [], []
    if enterprise.full:
        cutoff = online_cutoff(timezone.now())
        for outlet in selectors.outlets_of(enterprise):
            logger = outlet.logger
            outlets.append(
                {
                    "outlet": outlet,
                    "logger": logger,
                    "online": is_online(logger, cutoff),
                    "limits": [
                        {
                            "factor": lim.factor,
                            "label": factor_label(lim.factor),
                            "unit": factor_unit(lim.factor),
                            "low": lim.low,
                            "high": lim.high,
                        }
                        for lim in logger.limits.all()
                    ],
                }
            )
        cases = selectors.enterprise_cases(user=request.user, enterprise=enterprise)
    permit = getattr(enterprise, "permit", None)
    today = timezone.localdate()
    return render(
        request,
        "sources/enterprise.html",
        {
            "enterprise": enterprise,
            "permit": permit,
            "permit_valid": bool(permit and permit.valid_from <= today <= permit.valid_to),
            "outlets": outlets,
            "cases": cases,
            "since_24h": (timezone.now() - dt.timedelta(hours=24)).isoformat(),
            "since_30d": (timezone.now() - dt.timedelta(days=30)).isoformat(),
        },
    )


@login_required
def case_chart(request, issue_id: int):
    """The monitoring chart of a case on a page of its own (the case page includes the same
    `sources/case_chart.html`)."""
    try:
        issue = issue_get(user=request.user, issue_id=issue_id)
    except NotFound:
        return render(request, "sources/not_found.html", status=404)
    return render(request, "sources/case_chart_page.html", {"issue": issue})
