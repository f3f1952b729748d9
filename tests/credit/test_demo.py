"""The credit demo: eight enterprises in the five colours, and the enterprise contact's account."""

from __future__ import annotations

import io

from django.conf import settings
from rest_framework.test import APIClient

from credit import demo
from credit.models import CreditStanding, Evidence, RepairRequest
from gridgov.models import Role, User
from sources.models import Enterprise


def test_demo_gives_every_colour_and_a_contact_who_may_ask_for_repair(users):
    demo.load_demo(stdout=io.StringIO())
    demo.load_demo(stdout=io.StringIO())  # a second start: nothing twice
    codes = [demo.demo_code(n) for n in range(len(demo.STORY))]
    levels = set(CreditStanding.objects.filter(credit_code__in=codes).values_list("level", flat=True))
    assert levels == {"green", "blue", "yellow", "red", "black"}
    contact = User.objects.get(username="enterprise_contact")
    own = Enterprise.objects.get(credit_code=demo.demo_code(3))
    assert (contact.role, contact.organization_id) == (Role.ENTERPRISE_CONTACT, own.organization_id)
    assert User.objects.filter(username="enterprise_contact").count() == 1
    client = APIClient()
    assert client.login(username="enterprise_contact", password=settings.DEMO_PASSWORD)
    r = client.get(f"/api/credit/enterprises/{own.credit_code}/")
    assert r.status_code == 200, r.content
    # stop production 200 days ago: −6 for 12 months (the README's rule table), so not green
    assert r.json()["score"] < 11
    deduction = Evidence.objects.get(credit_code=own.credit_code, points__lt=0)
    r = client.post("/api/credit/repairs/", {"evidence": deduction.pk, "statement": "已整改（合成）"}, format="json")
    assert r.status_code == 201, r.content
    assert RepairRequest.objects.filter(evidence=deduction, filed_by=contact).count() == 1
