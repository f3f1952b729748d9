"""Service tests: reporting, exactly-once, routing, priority, deadlines, escalation, audit."""

from __future__ import annotations

import datetime as dt
import threading
import uuid

import pytest
from django.contrib.gis.geos import Point
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.utils import timezone

from gridgov.errors import Conflict, InvalidInput
from gridgov.models import GridCell
from patrol import services
from patrol.models import DispatchRule, Holiday, Issue, IssueEvent, Notification, Priority, Status
from patrol.services import ZoneRef, add_working_days, issue_report, issues_escalate_overdue


def test_report_routes_to_cell_township_district_and_unit(users, plain_here, unit):
    here = plain_here
    cell = GridCell.objects.get(geom__contains=here)
    DispatchRule.objects.update_or_create(category_id="air", area=cell.township.parent, defaults={"organization": unit})
    issue, created = issue_report(
        reporter=users["officer"],
        point=here,
        category="air.dust",
        description="扬尘",
        client_uuid=uuid.uuid4(),
        accuracy_m=8.5,
    )
    assert created
    assert issue.grid_cell_id == cell.pk and issue.grid_cell_code == cell.code
    assert issue.township_id == cell.township_id
    assert issue.district.code == "330106"
    assert issue.responsible_unit == unit
    assert issue.status == Status.REPORTED and issue.priority == Priority.NORMAL
    assert issue.deadline > timezone.now()
    ev = IssueEvent.objects.get(issue=issue)
    assert (ev.action, ev.from_status, ev.to_status, ev.actor_id) == ("report", "", "reported", users["officer"].pk)


def test_most_specific_dispatch_rule_wins(users, here, officer_cell, unit):
    from gridgov.models import Organization

    street = Organization.objects.filter(area=officer_cell.township).first()
    DispatchRule.objects.filter(area__in=[officer_cell.township, officer_cell.township.parent]).delete()
    DispatchRule.objects.update_or_create(category=None, area=None, defaults={"organization": unit})
    DispatchRule.objects.create(category_id="air", area=officer_cell.township, organization=street)
    district_id = officer_cell.township.parent_id
    assert (
        services.dispatch_rule_unit(
            category_code="air.dust", township_id=officer_cell.township_id, district_id=district_id
        )
        == street
    )
    assert (
        services.dispatch_rule_unit(
            category_code="water.river_litter", township_id=officer_cell.township_id, district_id=district_id
        )
        == unit
    )


def test_identical_resend_returns_same_case(users, here):
    cid = uuid.uuid4()
    a, created_a = issue_report(
        reporter=users["officer"], point=here, category="air.dust", description="x", client_uuid=cid
    )
    b, created_b = issue_report(
        reporter=users["officer"], point=here, category="air.dust", description="x", client_uuid=cid
    )
    assert created_a and not created_b and a.pk == b.pk
    assert Issue.objects.filter(client_uuid=cid).count() == 1
    assert IssueEvent.objects.filter(issue=a).count() == 1


def test_conflicting_resend_is_refused(users, here):
    cid = uuid.uuid4()
    issue_report(reporter=users["officer"], point=here, category="air.dust", description="x", client_uuid=cid)
    with pytest.raises(Conflict) as exc:
        issue_report(reporter=users["officer"], point=here, category="air.dust", description="y", client_uuid=cid)
    assert exc.value.field == "client_uuid"


def test_outside_every_cell_is_invalid_naming_lat(users):
    with pytest.raises(InvalidInput) as exc:
        issue_report(reporter=users["officer"], point=Point(116.4, 39.9, srid=4326), category="air", description="")
    assert exc.value.field == "lat" and "lat=" in exc.value.message and "lon=" in exc.value.message
    assert not Issue.objects.exists() or not Issue.objects.filter(point=Point(116.4, 39.9, srid=4326)).exists()


def test_unknown_category_and_long_description(users, here):
    with pytest.raises(InvalidInput) as exc:
        issue_report(reporter=users["officer"], point=here, category="air.nope", description="")
    assert exc.value.field == "category"
    with pytest.raises(InvalidInput) as exc:
        issue_report(reporter=users["officer"], point=here, category="air", description="长" * 5000)
    assert exc.value.field == "description"


def test_red_line_or_priority_unit_raises_priority(users, here, monkeypatch):
    monkeypatch.setattr(
        services, "zones_at", lambda p: [ZoneRef("ZH33010610001", "测试单元", "control_unit", "priority")]
    )
    issue = issue_report(
        reporter=users["officer"], point=here, category="air.dust", description="", client_uuid=uuid.uuid4()
    )[0]
    assert issue.priority == Priority.HIGH
    assert issue.zone_hits == [
        {"code": "ZH33010610001", "name": "测试单元", "layer": "control_unit", "category": "priority"}
    ]
    monkeypatch.setattr(services, "zones_at", lambda p: [ZoneRef("HX01", "红线", "red_line", None)])
    issue = issue_report(
        reporter=users["officer"], point=here, category="air.open_burning", description="", client_uuid=uuid.uuid4()
    )[0]
    assert issue.priority == Priority.URGENT  # open burning is already 'high'
    monkeypatch.setattr(services, "zones_at", lambda p: [ZoneRef("ZH33010630001", "一般", "control_unit", "general")])
    issue = issue_report(
        reporter=users["officer"], point=here, category="air.dust", description="", client_uuid=uuid.uuid4()
    )[0]
    assert issue.priority == Priority.NORMAL


def test_zoning_adapter_tolerates_missing_selector(db):
    assert isinstance(services.zones_at(Point(120.1, 30.25, srid=4326)), list)


def test_working_days_skip_weekends_and_holidays(db):
    tz = timezone.get_current_timezone()
    friday = dt.datetime(2026, 12, 4, 10, 0, tzinfo=tz)  # a Friday
    assert add_working_days(friday, 1).date() == dt.date(2026, 12, 7)  # Monday
    assert add_working_days(friday, 5).date() == dt.date(2026, 12, 11)
    Holiday.objects.create(date=dt.date(2026, 12, 7), name="测试假日")
    Holiday.objects.create(date=dt.date(2026, 12, 5), name="调休", is_workday=True)
    assert add_working_days(friday, 1).date() == dt.date(2026, 12, 5)  # the working Saturday
    assert add_working_days(friday, 2).date() == dt.date(2026, 12, 8)  # Monday is a holiday


def test_duplicates_within_radius_and_days(users, here, report):
    from patrol.selectors import issue_duplicates

    first = report()
    near = Point(here.x + 0.0003, here.y, srid=4326)  # ~29 m east
    far = Point(here.x + 0.01, here.y, srid=4326)  # ~960 m
    dups = issue_duplicates(point=near, category="air.dust")
    assert first.pk in [d.pk for d in dups]
    assert first.pk not in [d.pk for d in issue_duplicates(point=far, category="air.dust")]
    assert first.pk not in [d.pk for d in issue_duplicates(point=near, category="water")]
    Issue.objects.filter(pk=first.pk).update(reported_at=timezone.now() - dt.timedelta(days=8))
    assert first.pk not in [d.pk for d in issue_duplicates(point=near, category="air.dust")]


def test_audit_rows_refuse_update_and_delete(report):
    issue = report()
    ev = IssueEvent.objects.get(issue=issue)
    for stmt in (
        f"UPDATE patrol_issueevent SET note = 'rewritten' WHERE id = {ev.pk}",
        f"DELETE FROM patrol_issueevent WHERE id = {ev.pk}",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as c:
            c.execute(stmt)
    assert IssueEvent.objects.get(pk=ev.pk).note == ""


def _dispatched(report, users, unit, **kw):
    issue = report(**kw)
    services.issue_verify(issue_id=issue.pk, actor=users["township_supervisor"])
    return services.issue_dispatch(issue_id=issue.pk, actor=users["township_supervisor"], unit_id=unit.pk)


def test_escalation_notifies_district_then_city(report, users, unit):
    issue = _dispatched(report, users, unit)
    assert issues_escalate_overdue() == 0 or not Issue.objects.filter(pk=issue.pk, escalation_level__gt=0).exists()
    later = issue.deadline + dt.timedelta(hours=1)
    issues_escalate_overdue(now=later)
    issue.refresh_from_db()
    assert issue.escalation_level == 1 and issue.escalated_at == later and issue.next_escalation_at > later
    assert Notification.objects.filter(issue=issue, recipient=users["district_supervisor"]).count() == 1
    assert not Notification.objects.filter(issue=issue, recipient=users["city_supervisor"]).exists()
    issues_escalate_overdue(now=later + dt.timedelta(minutes=5))  # not yet due again
    issue.refresh_from_db()
    assert issue.escalation_level == 1
    even_later = issue.next_escalation_at + dt.timedelta(minutes=1)
    issues_escalate_overdue(now=even_later)
    issue.refresh_from_db()
    assert issue.escalation_level == 2
    assert Notification.objects.filter(issue=issue, recipient=users["city_supervisor"]).count() == 1
    ev = IssueEvent.objects.filter(issue=issue, action="escalate").order_by("id")
    assert [e.data["level"] for e in ev] == [1, 2] and all(e.actor_id is None for e in ev)
    issues_escalate_overdue(now=even_later + dt.timedelta(days=30))
    issue.refresh_from_db()
    assert issue.escalation_level == 2


def test_escalation_task_is_registered():
    from patrol import tasks

    assert tasks.escalate_overdue_issues.name.endswith("escalate_overdue_issues")


def test_full_loop_and_reopen(report, users, unit, here):
    from patrol.models import Photo

    issue = _dispatched(report, users, unit)
    assert issue.status == Status.DISPATCHED and issue.dispatched_at and issue.responsible_unit == unit
    ru = users["responsible_unit"]
    services.issue_start_rectification(issue_id=issue.pk, actor=ru)
    with pytest.raises(InvalidInput):
        services.issue_submit_rectification(issue_id=issue.pk, actor=ru, photo_hashes=[])
    from tests.patrol.conftest import jpeg_bytes

    photo, _ = services.photo_store(data=jpeg_bytes(color=(1, 2, 3)), uploaded_by=ru)
    services.issue_submit_rectification(issue_id=issue.pk, actor=ru, photo_hashes=[photo.sha256], note="已清理")
    services.issue_fail(issue_id=issue.pk, actor=users["officer"], note="仍有扬尘")
    issue.refresh_from_db()
    assert issue.status == Status.RECTIFYING
    services.issue_submit_rectification(issue_id=issue.pk, actor=ru, photo_hashes=[photo.sha256])
    issue = services.issue_accept(issue_id=issue.pk, actor=users["officer"])
    assert issue.status == Status.ACCEPTED and issue.closed_at and issue.accepted_at
    issue = services.issue_reopen(issue_id=issue.pk, actor=users["township_supervisor"], note="群众反映复发")
    assert issue.status == Status.VERIFIED and issue.closed_at is None
    actions = list(IssueEvent.objects.filter(issue=issue).values_list("action", flat=True))
    assert actions == [
        "report",
        "verify",
        "dispatch",
        "start_rectification",
        "submit_rectification",
        "fail",
        "submit_rectification",
        "accept",
        "reopen",
    ]
    assert Photo.objects.filter(sha256=photo.sha256).count() == 1


def test_dispatch_deadline_from_category_priority_and_override(report, users, unit, plain_here):
    # high, outside sensitive zones (another township: the district supervisor acts): 2 working days
    issue = report(category="air.open_burning", point=plain_here)
    services.issue_verify(issue_id=issue.pk, actor=users["district_supervisor"])
    issue = services.issue_dispatch(issue_id=issue.pk, actor=users["district_supervisor"], unit_id=unit.pk)
    assert issue.deadline == add_working_days(issue.dispatched_at, 2)
    override = timezone.now() + dt.timedelta(days=20)
    issue = services.issue_set_deadline(
        issue_id=issue.pk, actor=users["district_supervisor"], deadline=override.isoformat()
    )
    assert issue.deadline == override and issue.deadline_overridden
    with pytest.raises(Conflict):
        services.issue_set_deadline(issue_id=issue.pk, actor=users["officer"], deadline=override.isoformat())


def test_publish_removes_personal_data(report, users, unit):
    issue = report(description="张三 13812345678 在此焚烧，邮箱 a@b.cn，车牌浙A12345")
    services.issue_verify(issue_id=issue.pk, actor=users["district_supervisor"])
    issue = services.issue_publish(issue_id=issue.pk, actor=users["district_supervisor"])
    assert issue.is_public and issue.published_at
    text = issue.public_description
    assert "13812345678" not in text and "a@b.cn" not in text and "浙A12345" not in text
    with pytest.raises(Conflict):
        services.issue_publish(issue_id=issue.pk, actor=users["district_supervisor"])


def test_mark_duplicate_links_original(report, users):
    a = report()
    b = report()
    services.issue_mark_duplicate(issue_id=b.pk, duplicate_of_id=a.pk, actor=users["township_supervisor"])
    b.refresh_from_db()
    assert b.status == Status.DUPLICATE and b.duplicate_of_id == a.pk


def test_concurrent_identical_resends_create_one_case(here):
    # Threads use their own connections and commit; the test cleans up after them (a
    # transactional test would flush the demo grid that the whole session shares).
    from gridgov.models import User

    officer = User.objects.get(username="officer")
    cid = uuid.uuid4()
    results, errors = [], []
    barrier = threading.Barrier(4)

    def send():
        try:
            barrier.wait()
            issue, created = issue_report(
                reporter=officer, point=here, category="air.dust", description="并发", client_uuid=cid
            )
            results.append((issue.pk, created))
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert not errors, errors
        assert len({pk for pk, _ in results}) == 1
        assert sum(created for _, created in results) == 1
    finally:
        t = threading.Thread(target=_purge, args=(cid,))
        t.start()
        t.join()


def _purge(cid):
    """Remove committed test rows on a fresh connection (the owner may switch the trigger off)."""
    with transaction.atomic(), connection.cursor() as c:
        c.execute("ALTER TABLE patrol_issueevent DISABLE TRIGGER patrol_issueevent_append_only")
        c.execute(
            "DELETE FROM patrol_issueevent WHERE issue_id IN (SELECT id FROM patrol_issue WHERE client_uuid = %s)",
            [cid],
        )
        c.execute("ALTER TABLE patrol_issueevent ENABLE TRIGGER patrol_issueevent_append_only")
        c.execute("DELETE FROM patrol_issue WHERE client_uuid = %s", [cid])
    connection.close()


def test_imagery_engineer_contract(users, here):
    """The call the imagery app makes: keyword-only, source='imagery', optional client_uuid."""
    from tests.patrol.conftest import jpeg_bytes

    photo, _ = services.photo_store(data=jpeg_bytes(color=(77, 7, 7)), uploaded_by=users["planner"])
    cid = uuid.uuid4()
    kwargs = dict(
        reporter=users["planner"],
        point=here,
        category="ecology.illegal_logging",
        description="遥感变化图斑（合成）",
        source="imagery",
        client_uuid=cid,
        accuracy_m=10.0,
        photo_hashes=[photo.sha256],
        crs_note="EPSG:4326",
    )
    issue, created = issue_report(**kwargs)
    assert created and issue.source == "imagery" and issue.crs_note == "EPSG:4326"
    assert [p.sha256 for p in issue.photos.all()] == [photo.sha256]
    again, created_again = issue_report(**kwargs)
    assert again.pk == issue.pk and not created_again
    assert issue.photos.count() == 1
    a, _ = issue_report(
        reporter=users["planner"], point=here, category="other", description="", source="online_monitoring"
    )
    b, _ = issue_report(
        reporter=users["planner"], point=here, category="other", description="", source="online_monitoring"
    )
    assert a.pk != b.pk  # without a client_uuid each call is a new case
    with pytest.raises(InvalidInput) as exc:
        issue_report(reporter=users["planner"], point=here, category="other", description="", source="satellite")
    assert exc.value.field == "source"


def test_conflicting_resend_wins_over_invalid_content(users, here):
    cid = uuid.uuid4()
    issue_report(reporter=users["officer"], point=here, category="air.dust", description="x", client_uuid=cid)
    with pytest.raises(Conflict):
        issue_report(reporter=users["officer"], point=here, category="nope", description="x", client_uuid=cid)


def test_only_the_job_escalates_and_reopen_resets(report, users, unit):
    issue = _dispatched(report, users, unit)
    issues_escalate_overdue(now=issue.deadline + dt.timedelta(hours=1))
    issue.refresh_from_db()
    assert issue.escalation_level == 1
    ru = users["responsible_unit"]
    from tests.patrol.conftest import jpeg_bytes

    photo, _ = services.photo_store(data=jpeg_bytes(color=(3, 3, 3)), uploaded_by=ru)
    services.issue_submit_rectification(issue_id=issue.pk, actor=ru, photo_hashes=[photo.sha256])
    services.issue_accept(issue_id=issue.pk, actor=users["district_supervisor"])
    issue = services.issue_reopen(issue_id=issue.pk, actor=users["district_supervisor"], note="复发")
    assert issue.escalation_level == 0 and issue.status == Status.VERIFIED
