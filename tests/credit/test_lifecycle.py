"""Expiry (the periodic job), credit repair and clean-record rewards, with literal scores."""

import datetime as dt

import pytest
from django.utils import timezone

from credit import services
from credit.models import Evidence, RepairRequest, ScoreChange

from .conftest import days_ago


def fine(user_api, code, number, **kw):
    body = {
        "credit_code": code,
        "decision_number": number,
        "decided_on": timezone.localdate().isoformat(),
        "kind": "fine",
        "amount_yuan": 30_000,
    } | kw
    r = user_api("district_supervisor").post("/api/credit/penalties/", body, format="json")
    assert r.status_code == 201, r.content
    return r.json()


def credit(user_api, code):
    return user_api("city_supervisor").get(f"/api/credit/enterprises/{code}/").json()


def test_deductions_expire_by_themselves_and_the_job_is_idempotent(user_api, enterprise, on_day, monkeypatch):
    e = enterprise()
    t0 = days_ago(200)  # a fine counts 6 months: it ended about 17 days ago
    on_day(t0)
    fine(user_api, e.credit_code, "N-old", decided_on=t0.isoformat())
    fine(user_api, e.credit_code, "N-stop", decided_on=t0.isoformat(), kind="stop_production", amount_yuan=0)
    monkeypatch.undo()  # back to the real today
    assert credit(user_api, e.credit_code)["score"] == 4  # 12 − 2 − 6, until the job runs
    assert services.credit_expire_due() == 1
    body = credit(user_api, e.credit_code)
    assert (body["score"], body["level"]) == (6, "blue")
    last = body["history"][-1]
    assert (last["delta"], last["score"], last["rule"]) == (2, 6, "expired:penalty.fine")
    assert services.credit_expire_due() == 0
    assert len(credit(user_api, e.credit_code)["history"]) == 3


def test_a_level_change_by_expiry_is_in_the_history(user_api, enterprise, on_day, monkeypatch):
    e = enterprise()
    t0 = days_ago(400)
    on_day(t0)
    r = user_api("district_supervisor").post(
        "/api/credit/vetoes/",
        {"credit_code": e.credit_code, "kind": "no_eia", "found_on": t0.isoformat(), "reference": "西环审〔2025〕3号"},
        format="json",
    )
    assert r.json()["level"] == "red"
    monkeypatch.undo()
    services.credit_expire_due()
    last = credit(user_api, e.credit_code)["history"][-1]
    assert (last["delta"], last["score"], last["level"], last["rule"]) == (0, 12, "green", "expired:veto.no_eia")


def test_repair_after_the_minimum_period_removes_the_deduction_but_not_the_history(
    user_api, enterprise, contact_of, on_day, monkeypatch, api
):
    e = enterprise()
    t0 = days_ago(100)  # more than the 3-month minimum, less than the fine's 6 months
    on_day(t0)
    fine(user_api, e.credit_code, "N-repair", decided_on=t0.isoformat())
    monkeypatch.undo()
    evidence = Evidence.objects.get(credit_code=e.credit_code)
    contact = contact_of(e)
    api.force_authenticate(contact)
    r = api.post(
        "/api/credit/repairs/",
        {"evidence": evidence.pk, "statement": "已缴纳罚款并完成整改，附验收报告（合成）"},
        format="json",
    )
    assert r.status_code == 201, r.content
    assert credit(user_api, e.credit_code)["score"] == 10  # filing alone changes nothing
    r = user_api("district_supervisor").post(
        f"/api/credit/repairs/{r.json()['id']}/decide/", {"approve": True, "note": "同意修复"}, format="json"
    )
    assert r.status_code == 200, r.content
    body = credit(user_api, e.credit_code)
    assert (body["score"], body["level"]) == (12, "green")
    assert [(h["delta"], h["rule"]) for h in body["history"]] == [(-2, "penalty.fine"), (2, "repaired:penalty.fine")]
    assert body["evidence"][0]["repaired_on"] == timezone.localdate().isoformat()
    # the expiry of a repaired fine moves nothing
    Evidence.objects.filter(pk=evidence.pk).update(expires_on=timezone.localdate())
    services.credit_expire_due()
    assert ScoreChange.objects.filter(credit_code=e.credit_code).count() == 2


def test_repair_before_the_minimum_period_is_refused(user_api, enterprise, contact_of, api):
    e = enterprise()
    fine(user_api, e.credit_code, "N-early")
    evidence = Evidence.objects.get(credit_code=e.credit_code)
    api.force_authenticate(contact_of(e))
    r = api.post("/api/credit/repairs/", {"evidence": evidence.pk, "statement": "申请修复（合成）"}, format="json")
    assert r.status_code == 400 and r.json()["code"] == "repair_too_early" and r.json()["field"] == "evidence"
    assert (timezone.localdate() + dt.timedelta(days=89)).isoformat()[:4] in r.json()["message"]
    assert not RepairRequest.objects.exists()


def test_other_enterprises_contact_cannot_file_and_refusal_needs_a_reason(
    user_api, enterprise, contact_of, on_day, monkeypatch, api
):
    e, other = enterprise(), enterprise()
    on_day(days_ago(100))
    fine(user_api, e.credit_code, "N-other", decided_on=days_ago(100).isoformat())
    monkeypatch.undo()
    evidence = Evidence.objects.get(credit_code=e.credit_code)
    api.force_authenticate(contact_of(other))
    r = api.post("/api/credit/repairs/", {"evidence": evidence.pk, "statement": "x"}, format="json")
    assert (r.status_code, r.json()["code"]) == (404, "evidence_not_found")
    r = user_api("district_supervisor").post(
        "/api/credit/repairs/", {"evidence": evidence.pk, "statement": "代企业申请（合成）"}, format="json"
    )
    assert r.status_code == 201
    r2 = user_api("district_supervisor").post(
        f"/api/credit/repairs/{r.json()['id']}/decide/", {"approve": False}, format="json"
    )
    assert (r2.status_code, r2.json()["field"]) == (400, "note")
    r2 = user_api("district_supervisor").post(
        f"/api/credit/repairs/{r.json()['id']}/decide/", {"approve": False, "note": "整改证明不足"}, format="json"
    )
    assert r2.json()["status"] == "refused"
    assert credit(user_api, e.credit_code)["score"] == 10


def test_points_back_for_a_clean_record_with_a_commitment(user_api, enterprise, contact_of, on_day, monkeypatch, api):
    e = enterprise()
    t0 = days_ago(120)
    on_day(t0)
    fine(user_api, e.credit_code, "N-stop2", decided_on=t0.isoformat(), kind="stop_production", amount_yuan=0)
    monkeypatch.undo()
    assert services.credit_rewards_due() == 0  # no commitment yet
    api.force_authenticate(contact_of(e))
    r = api.post(
        "/api/credit/commitments/",
        {"credit_code": e.credit_code, "signed_on": (t0 + dt.timedelta(days=1)).isoformat()},
        format="json",
    )
    assert r.status_code == 200, r.content
    assert services.credit_rewards_due() == 1
    body = credit(user_api, e.credit_code)
    assert (body["score"], body["level"]) == (7, "blue")
    assert body["history"][-1]["rule"] == "reward.clean_record" and body["history"][-1]["delta"] == 1
    assert services.credit_rewards_due() == 0  # the next one only after another clean period


@pytest.mark.parametrize("who,status", [("officer", 403), ("responsible_unit", 403)])
def test_commitments_and_repairs_are_for_contacts_and_supervisors(user_api, enterprise, who, status):
    e = enterprise()
    r = user_api(who).post(
        "/api/credit/commitments/", {"credit_code": e.credit_code, "signed_on": "2026-01-01"}, format="json"
    )
    assert r.status_code == status
