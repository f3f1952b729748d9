"""Each default scoring rule through the API, with literal expected scores (the README's rule table:
start 12; warning −1; fine −2 / −3 from 100,000 yuan / −6 from 1,000,000; confiscation −2; stop
production, permit revoked, detention −6; crime −12 and veto; veto findings 0 points, red)."""

import datetime as dt
import uuid

import psycopg
import pytest
from django.db import connection, transaction
from django.utils import timezone

from credit.models import Evidence, Penalty, ScoreChange
from gridgov.models import Role, User
from monitoring.models import Logger
from monitoring.services import monitoring_tick
from patrol.actions.photos import photo_store
from patrol.actions.reporting import issue_report
from patrol.actions.transitions import issue_transition
from sources.models import Episode, Outage
from sources.services import outlet_add
from tests.patrol.conftest import jpeg_bytes
from tests.sources.test_exceedance import hour_of


def penalty(user_api, code, *, kind, amount=0, number=None, decided_on=None, who="district_supervisor"):
    body = {
        "credit_code": code,
        "decision_number": number or f"杭西环罚〔2026〕{abs(hash((code, kind, amount))) % 100000}号",
        "decided_on": (decided_on or timezone.localdate()).isoformat(),
        "kind": kind,
        "amount_yuan": amount,
    }
    return user_api(who).post("/api/credit/penalties/", body, format="json")


@pytest.mark.parametrize(
    "kind,amount,score,level,rule",
    [
        ("warning", 0, 11, "green", "penalty.warning"),
        ("fine", 50_000, 10, "blue", "penalty.fine"),
        ("fine", 100_000, 9, "blue", "penalty.fine_100k"),
        ("fine", 1_500_000, 6, "blue", "penalty.fine_1m"),
        ("confiscation", 20_000, 10, "blue", "penalty.confiscation"),
        ("stop_production", 0, 6, "blue", "penalty.stop_production"),
        ("permit_revoked", 0, 6, "blue", "penalty.permit_revoked"),
        ("detention", 0, 6, "blue", "penalty.detention"),
        ("crime", 0, 0, "black", "penalty.crime"),
    ],
)
def test_each_penalty_rule(user_api, enterprise, kind, amount, score, level, rule):
    e = enterprise()
    r = penalty(user_api, e.credit_code, kind=kind, amount=amount)
    assert r.status_code == 201, r.content
    body = user_api("city_supervisor").get(f"/api/credit/enterprises/{e.credit_code}/").json()
    assert (body["score"], body["level"]) == (score, level)
    [row] = body["history"]
    assert row["delta"] == score - 12 and row["score"] == score and row["level"] == level and row["rule"] == rule
    assert row["evidence"] == {"kind": "penalty", "id": Penalty.objects.get(credit_code=e.credit_code).pk}
    assert set(row) >= {"at", "delta", "score", "level", "rule", "evidence"}


def test_penalties_accumulate_and_the_answer_carries_the_new_score(user_api, enterprise):
    e = enterprise()
    assert penalty(user_api, e.credit_code, kind="warning").json()["score"] == 11
    r = penalty(user_api, e.credit_code, kind="stop_production")
    assert (r.json()["score"], r.json()["level"]) == (5, "yellow")
    r = penalty(user_api, e.credit_code, kind="fine", amount=120_000)
    assert (r.json()["score"], r.json()["level"]) == (2, "red")
    assert [h["score"] for h in r.json()["history"]] == [11, 5, 2]


def test_veto_is_red_at_once(user_api, enterprise):
    e = enterprise()
    r = user_api("district_supervisor").post(
        "/api/credit/vetoes/",
        {
            "credit_code": e.credit_code,
            "kind": "bypass",
            "found_on": timezone.localdate().isoformat(),
            "reference": "西环查〔2026〕7号",
        },
        format="json",
    )
    assert r.status_code == 201, r.content
    assert (r.json()["score"], r.json()["level"]) == (12, "red")
    assert r.json()["history"][-1]["rule"] == "veto.bypass" and r.json()["history"][-1]["delta"] == 0


def test_accepted_case_dispatched_to_the_enterprise_is_evidence(users, enterprise, here):
    """A patrol case dispatched to the enterprise's organization and accepted: −1 (case.accepted)."""
    e = enterprise()
    city = users["city_supervisor"]
    issue, _ = issue_report(
        reporter=users["officer"],
        point=e.point,
        category="air.dust",
        description="企业扬尘（合成）",
        client_uuid=uuid.uuid4(),
    )
    unit_user = User.objects.create(
        username=f"unit_{e.credit_code}", role=Role.RESPONSIBLE_UNIT, organization=e.organization
    )
    photo, _ = photo_store(data=jpeg_bytes(), uploaded_by=unit_user)
    issue_transition(issue_id=issue.pk, action="verify", actor=city)
    issue_transition(issue_id=issue.pk, action="dispatch", actor=city, unit_id=e.organization_id)
    issue_transition(issue_id=issue.pk, action="submit_rectification", actor=unit_user, photo_hashes=[photo.sha256])
    assert not Evidence.objects.filter(credit_code=e.credit_code).exists()
    issue_transition(issue_id=issue.pk, action="accept", actor=city)
    change = ScoreChange.objects.get(credit_code=e.credit_code)
    assert (change.delta, change.score, change.level, change.rule) == (-1, 11, "green", "case.accepted")
    assert (change.evidence.kind, change.evidence.source_id) == ("case", issue.pk)
    # reopened and accepted again: counted once
    issue_transition(issue_id=issue.pk, action="reopen", actor=city, note="复查（合成）")
    issue_transition(issue_id=issue.pk, action="dispatch", actor=city, unit_id=e.organization_id)
    issue_transition(issue_id=issue.pk, action="submit_rectification", actor=unit_user, photo_hashes=[photo.sha256])
    issue_transition(issue_id=issue.pk, action="accept", actor=city)
    assert ScoreChange.objects.filter(credit_code=e.credit_code).count() == 1


def online_outlet(e):
    """A wastewater outlet of enterprise `e` with an online logger (COD ≤ 50 mg/L), at its point."""
    return outlet_add(
        actor=None,
        enterprise=e,
        code="DW001",
        lat=round(e.point.y, 7),
        lon=round(e.point.x, 7),
        mn=f"CRD{e.credit_code[-10:]}",
        password="123456",
        limits={"w01018": (None, 50.0)},
    )


def rectify_and_accept(issue, e, users):
    """Verify, dispatch to the enterprise's organization, rectify and accept a case."""
    city = users["city_supervisor"]
    unit_user = User.objects.create(
        username=f"unit_{e.credit_code}", role=Role.RESPONSIBLE_UNIT, organization=e.organization
    )
    photo, _ = photo_store(data=jpeg_bytes(), uploaded_by=unit_user)
    issue_transition(issue_id=issue.pk, action="verify", actor=city)
    issue_transition(issue_id=issue.pk, action="dispatch", actor=city, unit_id=e.organization_id)
    issue_transition(issue_id=issue.pk, action="submit_rectification", actor=unit_user, photo_hashes=[photo.sha256])
    issue_transition(issue_id=issue.pk, action="accept", actor=city)


def test_accepted_exceedance_case_is_episode_evidence(users, user_api, enterprise):
    """An online-monitoring exceedance case (opened by the judging tick) accepted: −2
    (exceedance.episode, docs: 6 months), the evidence being the episode, not the case."""
    e = enterprise()
    outlet = online_outlet(e)
    hour = timezone.make_aware(dt.datetime(2026, 11, 20, 10, 0))
    hour_of(outlet, hour, 60.0)  # COD 60 mg/L against 50
    monitoring_tick(now=hour + dt.timedelta(hours=1))
    episode = Episode.objects.get(outlet=outlet)
    assert episode.issue.source == "online_monitoring"
    rectify_and_accept(episode.issue, e, users)
    change = ScoreChange.objects.get(credit_code=e.credit_code)
    assert (change.delta, change.score, change.level, change.rule) == (-2, 10, "blue", "exceedance.episode")
    assert (change.evidence.kind, change.evidence.source_id) == ("exceedance", episode.pk)
    assert episode.pk != episode.issue_id  # so the id above is the episode's and not the case's
    body = user_api("city_supervisor").get(f"/api/credit/enterprises/{e.credit_code}/").json()
    assert (body["score"], body["level"]) == (10, "blue")
    [row] = body["history"]
    assert (row["delta"], row["rule"], row["evidence"]) == (
        -2,
        "exceedance.episode",
        {"kind": "exceedance", "id": episode.pk},
    )


def test_accepted_logger_offline_case_is_no_evidence(users, enterprise):
    """A 数采仪离线 case is a data-quality matter: accepted, it moves nothing."""
    e = enterprise()
    outlet = online_outlet(e)
    now = timezone.now()
    Logger.objects.filter(pk=outlet.logger_id).update(last_seen=now - dt.timedelta(minutes=90))
    monitoring_tick(now=now)
    outage = Outage.objects.get(outlet=outlet)
    assert (outage.issue.source, outage.issue.category_id) == ("online_monitoring", "other.logger_offline")
    rectify_and_accept(outage.issue, e, users)
    assert outage.issue.events.filter(action="accept").exists()
    assert not Evidence.objects.filter(credit_code=e.credit_code).exists()
    assert not ScoreChange.objects.filter(credit_code=e.credit_code).exists()


def test_history_is_immutable_in_the_database(user_api, enterprise):
    e = enterprise()
    penalty(user_api, e.credit_code, kind="warning")
    for sql in ("UPDATE credit_scorechange SET delta = 0", "DELETE FROM credit_scorechange"):
        with pytest.raises(Exception) as err, transaction.atomic(), connection.cursor() as c:
            c.execute(sql)
        assert "append-only" in str(err.value)
    assert ScoreChange.objects.filter(credit_code=e.credit_code).count() == 1


def test_history_cannot_be_truncated(db):
    """On a connection of its own: TRUNCATE waits for every other transaction on the table."""
    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"], port=db["PORT"], user=db["USER"], password=db["PASSWORD"], dbname=db["NAME"]
    ) as other:
        with pytest.raises(psycopg.Error) as err:
            other.execute("TRUNCATE credit_scorechange CASCADE")
        assert "append-only: TRUNCATE refused" in str(err.value)


@pytest.mark.parametrize(
    "change,status,field,code",
    [
        ({"kind": "flogging"}, 400, "kind", "invalid_choice"),
        ({"amount_yuan": -5}, 400, "amount_yuan", "min_value"),
        ({"decided_on": "2999-01-01"}, 400, "decided_on", "in_future"),
        ({"credit_code": "91330100799655058B"}, 404, "credit_code", "enterprise_not_found"),
        # the GB 32100 check character is verified, as sources does (…058B is the valid one)
        ({"credit_code": "91330100799655058C"}, 400, "credit_code", "check_character"),
        ({"credit_code": "9133010079965505"}, 400, "credit_code", "length"),
        ({"decided_on": "yesterday"}, 400, "decided_on", "invalid"),
    ],
)
def test_bad_penalties_change_nothing(user_api, enterprise, change, status, field, code):
    e = enterprise()
    before = Penalty.objects.count()
    body = {
        "credit_code": e.credit_code,
        "decision_number": "杭西环罚〔2026〕1号",
        "decided_on": timezone.localdate().isoformat(),
        "kind": "fine",
        "amount_yuan": 1000,
    } | change
    r = user_api("district_supervisor").post("/api/credit/penalties/", body, format="json")
    assert r.status_code == status, r.content
    assert (r.json()["field"], r.json()["code"]) == (field, code)
    assert Penalty.objects.count() == before and not Evidence.objects.filter(credit_code=e.credit_code).exists()


def test_only_supervisors_enter_penalties_and_twice_is_a_conflict(user_api, enterprise):
    e = enterprise()
    assert penalty(user_api, e.credit_code, kind="warning", who="officer").status_code == 403
    assert penalty(user_api, e.credit_code, kind="warning", number="N1").status_code == 201
    r = penalty(user_api, e.credit_code, kind="warning", number="N1")
    assert (r.status_code, r.json()["code"]) == (409, "decision_exists")
    assert user_api("city_supervisor").get(f"/api/credit/enterprises/{e.credit_code}/").json()["score"] == 11


def test_out_of_scope_supervisor_sees_no_enterprise(user_api, enterprise, db):
    from gridgov.models import GridCell

    elsewhere = GridCell.objects.exclude(township__parent__code="330106").order_by("code").first()
    e = enterprise(cell=elsewhere)
    r = penalty(user_api, e.credit_code, kind="warning")
    assert (r.status_code, r.json()["code"]) == (404, "enterprise_not_found")
