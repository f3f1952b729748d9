"""Exceedance → case and logger outage → case, through the judging tick (monitoring_tick), with
literal expected results: one case per episode, notes for further hours, a new case only
after 24 clear hours, D/F/M/C hours as gaps, one 数采仪离线 case per outage."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from monitoring import store
from monitoring.models import Logger
from monitoring.services import monitoring_tick
from patrol.models import Issue, IssueEvent
from sources import services
from sources.models import Episode, Outage

from .conftest import credit_code, inside

pytestmark = pytest.mark.django_db
H = timezone.make_aware(dt.datetime(2026, 11, 20, 10, 0))


@pytest.fixture
def outlet(xihu_cell):
    lat, lon = inside(xihu_cell)
    code = credit_code()
    enterprise = services.enterprise_register(
        actor=None,
        credit_code=code,
        name=f"超标测试印染有限公司{code[-5:]}（合成）",
        industry_code="1713",
        management_class="key",
        lat=lat,
        lon=lon,
        permit={"number": code + "001P", "valid_from": dt.date(2024, 1, 1), "valid_to": dt.date(2028, 12, 31)},
    )
    return services.outlet_add(
        actor=None,
        enterprise=enterprise,
        code="DW001",
        lat=lat,
        lon=lon,
        mn=f"EXC{code[-10:]}",
        password="123456",
        limits={"w01018": (None, 50.0), "w01001": (6.0, 9.0)},
    )


def hour_of(outlet, hour: dt.datetime, value: float, flag: str = "N", factor: str = "w01018") -> None:
    """Sixty minutes of one value, the hour pending and its last minute in."""
    with connection.cursor() as c:
        store.ensure_partitions(c, {("M", store.month_of(hour)), ("H", store.month_of(hour))})
        c.executemany(
            "INSERT INTO monitoring_reading (time, value, logger_id, period, flag, factor) VALUES (%s, %s, %s, 'M', %s, %s)",
            [(hour + dt.timedelta(minutes=m), value, outlet.logger_id, flag, factor) for m in range(60)],
        )
        c.execute("INSERT INTO monitoring_pendinghour VALUES (%s, %s) ON CONFLICT DO NOTHING", [outlet.logger_id, hour])
    Logger.objects.filter(pk=outlet.logger_id).update(
        last_data_time=hour + dt.timedelta(minutes=59), last_seen=timezone.now()
    )


def cases(outlet) -> list[Issue]:
    return list(Issue.objects.filter(episode__outlet=outlet).order_by("pk"))


def notes(issue: Issue) -> list[str]:
    return list(IssueEvent.objects.filter(issue=issue, action="note").order_by("pk").values_list("note", flat=True))


def test_first_exceeded_hour_opens_one_routed_case(outlet, xihu_cell):
    hour_of(outlet, H, 60.0)
    assert monitoring_tick(now=H + dt.timedelta(hours=1))["exceeded"] == 1
    (issue,) = cases(outlet)
    assert (issue.source, issue.category_id, issue.status) == (
        "online_monitoring",
        "water.online_exceedance",
        "reported",
    )
    assert issue.responsible_unit_id == outlet.enterprise.organization_id
    assert (issue.grid_cell_id, issue.township_id) == (xihu_cell.pk, xihu_cell.township_id)
    mn = outlet.logger.mn
    assert f"MN {mn}" in issue.description and "（w01018）" in issue.description
    assert "2026-11-20 10:00–11:00 小时均值 60 mg/L" in issue.description and "许可限值 50 mg/L" in issue.description
    assert "DW001" in issue.description and outlet.enterprise.name in issue.description
    episode = Episode.objects.get(outlet=outlet)
    assert (episode.factor, episode.first_hour, episode.hours, episode.peak) == ("w01018", H, 1, 60.0)


def test_further_hours_add_notes_to_the_same_case(outlet):
    hour_of(outlet, H, 60.0)
    monitoring_tick(now=H + dt.timedelta(hours=1))
    hour_of(outlet, H + dt.timedelta(hours=1), 70.0)
    monitoring_tick(now=H + dt.timedelta(hours=2))
    (issue,) = cases(outlet)
    assert notes(issue)[-1] == (
        f"新增超标小时 2026-11-20 11:00–12:00：化学需氧量（w01018）70 mg/L，限值 50 mg/L；本次超标累计 2 小时"
        f"（MN {outlet.logger.mn}）。"
    )
    # the same hour judged again (late data) adds nothing
    with connection.cursor() as c:
        c.execute("INSERT INTO monitoring_pendinghour VALUES (%s, %s)", [outlet.logger_id, H + dt.timedelta(hours=1)])
    before = len(notes(issue))
    monitoring_tick(now=H + dt.timedelta(hours=3))
    assert len(notes(issue)) == before and Episode.objects.get(outlet=outlet).hours == 2


def test_a_new_case_only_after_24_clear_hours(outlet):
    def exceed(at: dt.datetime):
        hour_of(outlet, at, 65.0)
        monitoring_tick(now=at + dt.timedelta(hours=1))

    exceed(H)  # 10:00
    exceed(H + dt.timedelta(hours=24))  # 10:00 next day: 23 clear hours between, same episode
    assert len(cases(outlet)) == 1
    exceed(H + dt.timedelta(hours=49))  # 11:00 the day after: 24 clear hours between, a new case
    assert len(cases(outlet)) == 2
    first, second = Episode.objects.filter(outlet=outlet).order_by("first_hour")
    assert (first.first_hour, first.last_hour, first.hours) == (H, H + dt.timedelta(hours=24), 2)
    assert (second.first_hour, second.hours) == (H + dt.timedelta(hours=49), 1)


def test_hours_within_the_limit_or_with_gap_flags_open_nothing(outlet):
    hour_of(outlet, H, 45.0)  # within the limit
    hour_of(outlet, H + dt.timedelta(hours=1), 90.0, flag="D")  # instrument fault: a data-quality gap
    hour_of(outlet, H + dt.timedelta(hours=2), 90.0, flag="M")  # maintenance
    hour_of(outlet, H + dt.timedelta(hours=3), 7.5, factor="w01001")  # pH in range
    summary = monitoring_tick(now=H + dt.timedelta(hours=5))
    assert summary["exceeded"] == 0 and cases(outlet) == []


def test_ph_out_of_range_opens_a_case(outlet):
    hour_of(outlet, H, 5.2, factor="w01001")
    monitoring_tick(now=H + dt.timedelta(hours=1))
    (issue,) = cases(outlet)
    assert "pH 值（w01001）" in issue.description and "许可限值 6–9" in issue.description


def test_air_outlet_opens_an_air_case(outlet, xihu_cell):
    lat, lon = inside(xihu_cell)
    air = services.outlet_add(
        actor=None,
        enterprise=outlet.enterprise,
        code="DA001",
        lat=lat,
        lon=lon,
        mn=outlet.logger.mn + "A",
        password="123456",
        limits={"a21026": (None, 35.0)},
    )
    hour_of(air, H, 80.0, factor="a21026")
    monitoring_tick(now=H + dt.timedelta(hours=1))
    (issue,) = cases(air)
    assert issue.category_id == "air.online_exceedance" and "废气排放口 DA001" in issue.description


def test_a_silent_logger_opens_one_offline_case_and_closes_it_when_heard(outlet):
    now = timezone.now()
    Logger.objects.filter(pk=outlet.logger_id).update(last_seen=now - dt.timedelta(minutes=90))
    monitoring_tick(now=now)
    monitoring_tick(now=now + dt.timedelta(minutes=5))
    (outage,) = Outage.objects.filter(outlet=outlet)
    issue = outage.issue
    assert (issue.category_id, issue.source) == ("other.logger_offline", "online_monitoring")
    assert issue.responsible_unit_id == outlet.enterprise.organization_id
    assert f"MN {outlet.logger.mn}" in issue.description and "超过 60 分钟未上传数据" in issue.description
    Logger.objects.filter(pk=outlet.logger_id).update(last_seen=now + dt.timedelta(minutes=6))
    monitoring_tick(now=now + dt.timedelta(minutes=7))
    outage.refresh_from_db()
    assert outage.ended_at == now + dt.timedelta(minutes=6)
    assert notes(issue)[-1].startswith("数采仪恢复通讯：")
    assert Outage.objects.filter(outlet=outlet).count() == 1
