"""Judging hours, with literal expected results (HJ 212 flags; at least 45 valid minutes).

Minute rows are written straight into the store inside the test's transaction; the judge is
the production statement (monitoring.judging), on both of its paths: the one statement that
reads a few loggers' minutes by index, and the staged grouping of the whole hour that it uses
when many loggers are due (forced here by lowering `judging.FEW`).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.gis.geos import Point
from django.db import connection
from django.utils import timezone

from monitoring import judging, store
from monitoring.models import Limit, Logger

pytestmark = pytest.mark.django_db
H = timezone.make_aware(dt.datetime(2026, 11, 20, 10, 0))  # an hour in the past


@pytest.fixture(params=["few", "staged"])
def logger(db, request, monkeypatch):
    if request.param == "staged":
        monkeypatch.setattr(judging, "FEW", 0)
    lg = Logger.objects.create(
        mn="JUDGE-TEST-01",
        password="123456",
        kind="outlet",
        name="判定测试（合成）",
        point=Point(120.1, 30.25, srid=4326),
    )
    Limit.objects.create(logger=lg, factor="w01018", high=50.0)
    Limit.objects.create(logger=lg, factor="w01001", low=6.0, high=9.0)
    return lg


def put(
    logger, factor: str, minutes: list[tuple[float, str]], *, hour: dt.datetime = H, period: str = "M", first: int = 0
) -> None:
    """Minute rows (value, flag) from minute `first` of the hour on; marks the hour pending."""
    with connection.cursor() as c:
        store.ensure_partitions(c, {(period, store.month_of(hour))})
        for i, (value, flag) in enumerate(minutes):
            c.execute(
                "INSERT INTO monitoring_reading (time, value, min, max, logger_id, period, flag, factor) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                [hour + dt.timedelta(minutes=first + i), value, value, value, logger.pk, period, flag, factor],
            )
        c.execute(
            "INSERT INTO monitoring_pendinghour (logger_id, hour) VALUES (%s, %s) ON CONFLICT DO NOTHING",
            [logger.pk, hour.replace(minute=0)],
        )


def hour_row(logger, factor: str, hour: dt.datetime = H) -> tuple:
    with connection.cursor() as c:
        c.execute(
            "SELECT value, valid_minutes, flag, exceeded, origin, limit_low, limit_high FROM monitoring_reading "
            "WHERE logger_id = %s AND period = 'H' AND factor = %s AND time = %s",
            [logger.pk, factor, hour],
        )
        return c.fetchone()


def judge(logger, hour: dt.datetime = H) -> judging.Judgement:
    return judging.judge_hours([(logger.pk, hour)])


def test_45_valid_minutes_judge_an_hour(logger):
    put(logger, "w01018", [(60.0, "N")] * 45 + [(60.0, "D")] * 15)
    result = judge(logger)
    assert hour_row(logger, "w01018") == (60.0, 45, "N", True, "C", None, 50.0)
    assert [(h.factor, h.value, h.valid_minutes) for h in result.exceeded] == [("w01018", 60.0, 45)]


def test_44_valid_minutes_are_a_gap_not_an_exceedance(logger):
    put(logger, "w01018", [(60.0, "N")] * 44 + [(60.0, "D")] * 16)
    result = judge(logger)
    assert hour_row(logger, "w01018") == (60.0, 44, "D", None, "C", None, 50.0)
    assert result.exceeded == []


def test_the_mean_of_valid_minutes_against_the_limit(logger):
    # (45·40 + 15·80) / 60 = 50.0: at the limit is not above it
    put(logger, "w01018", [(40.0, "N")] * 45 + [(80.0, "N")] * 15)
    judge(logger)
    assert hour_row(logger, "w01018")[:4] == (50.0, 60, "N", False)
    # (44·40 + 16·80) / 60 = 50.67 > 50
    h2 = H + dt.timedelta(hours=1)
    put(logger, "w01018", [(40.0, "N")] * 44 + [(80.0, "N")] * 16, hour=h2)
    judge(logger, h2)
    value, valid, flag, exceeded, *_ = hour_row(logger, "w01018", h2)
    assert (round(value, 4), valid, flag, exceeded) == (50.6667, 60, "N", True)


def test_flagged_minutes_stay_out_of_the_mean(logger):
    # 50 minutes N at 30 and 10 minutes calibrating (C) at 500: the mean is 30, no exceedance
    put(logger, "w01018", [(30.0, "N")] * 50 + [(500.0, "C")] * 10)
    judge(logger)
    assert hour_row(logger, "w01018")[:4] == (30.0, 50, "N", False)


@pytest.mark.parametrize("value,exceeded", [(5.5, True), (7.0, False), (9.2, True), (9.0, False)])
def test_ph_is_judged_against_its_range(logger, value, exceeded):
    put(logger, "w01001", [(value, "N")] * 60)
    judge(logger)
    assert hour_row(logger, "w01001")[3:] == (exceeded, "C", 6.0, 9.0)


def test_a_factor_without_limit_is_not_judged(logger):
    put(logger, "w21003", [(99.0, "N")] * 60)
    judge(logger)
    assert hour_row(logger, "w21003")[:4] == (99.0, 60, "N", None)


def test_the_loggers_own_hour_is_judged_as_sent(logger):
    # a 2061 hour flagged N, no minute data: judged as the logger sent it
    put(logger, "w01018", [(55.0, "N")], period="H")
    with connection.cursor() as c:
        c.execute("UPDATE monitoring_reading SET origin = 'L' WHERE logger_id = %s AND period = 'H'", [logger.pk])
    judge(logger)
    assert hour_row(logger, "w01018") == (55.0, None, "N", True, "L", None, 50.0)
    # with minutes too, it keeps its own value and gets their valid count
    put(logger, "w01018", [(20.0, "N")] * 50)  # minutes
    judge(logger)
    assert hour_row(logger, "w01018") == (55.0, 50, "N", True, "L", None, 50.0)


def test_a_loggers_hour_flagged_d_is_a_gap(logger):
    put(logger, "w01018", [(80.0, "D")], period="H")
    with connection.cursor() as c:
        c.execute("UPDATE monitoring_reading SET origin = 'L' WHERE logger_id = %s AND period = 'H'", [logger.pk])
    judge(logger)
    assert hour_row(logger, "w01018")[2:4] == ("D", None)


def test_rule_max_compares_the_hours_maximum(logger):
    Logger.objects.filter(pk=logger.pk).update(exceedance_rule="max")
    put(logger, "w01018", [(40.0, "N")] * 59 + [(70.0, "N")])
    judge(logger)
    assert hour_row(logger, "w01018")[3] is True


def test_an_hour_is_due_once_its_last_minute_arrived_or_by_the_clock(logger):
    put(logger, "w01018", [(60.0, "N")] * 50)
    Logger.objects.filter(pk=logger.pk).update(last_data_time=H + dt.timedelta(minutes=49))
    now = H + dt.timedelta(minutes=62)  # before the grace period ends
    assert judging.judge_due(now=now).judged == 0
    Logger.objects.filter(pk=logger.pk).update(last_data_time=H + dt.timedelta(minutes=59))
    assert judging.judge_due(now=now).judged == 1  # one factor, one hour
    # late data put it back; without its last minute it waits for the clock
    put(logger, "w01018", [(60.0, "N")] * 5, first=50)
    Logger.objects.filter(pk=logger.pk).update(last_data_time=H + dt.timedelta(minutes=54))
    assert judging.judge_due(now=H + dt.timedelta(minutes=65)).judged == 0
    assert judging.judge_due(now=H + dt.timedelta(minutes=71)).judged == 1


def test_offline_once_and_back_online(logger):
    now = timezone.now()
    Logger.objects.filter(pk=logger.pk).update(last_seen=now - dt.timedelta(minutes=61))
    assert [i for i, _ in judging.loggers_offline(now=now) if i == logger.pk] == [logger.pk]
    assert [i for i, _ in judging.loggers_offline(now=now) if i == logger.pk] == []  # once per outage
    assert [i for i, *_ in judging.loggers_back_online() if i == logger.pk] == []
    Logger.objects.filter(pk=logger.pk).update(last_seen=now)
    back = [x for x in judging.loggers_back_online() if x[0] == logger.pk]
    assert len(back) == 1 and back[0][1] == now - dt.timedelta(minutes=61) and back[0][2] == now
    Logger.objects.filter(pk=logger.pk).update(last_seen=now - dt.timedelta(minutes=59))
    assert [i for i, _ in judging.loggers_offline(now=now) if i == logger.pk] == []  # 59 minutes is not 60
