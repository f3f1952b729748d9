"""The online-monitoring API over HTTP, with literal expected results (issue 15, Interfaces):

- GET /api/monitoring/series/?mn=&factor=&interval=minute|hour|day[&since=&until=] → a list
  of {time, value, min, max, flag, valid_minutes, exceeded}; hour rows carry valid_minutes
  and exceeded;
- GET /api/monitoring/loggers/ → per mn: online, last_seen, accepted, rejected.

The data come the real way: minute packets over TCP into the production receiver (committed
by its own connection), hours judged by `judging.judge_hours`, the statement the every-minute
job runs, also committed (it takes the receiver's pending-hour rows).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from monitoring import judging
from monitoring.simulator import SimLogger, exchange
from monitoring.store import LOCAL

from .receiving import committed, run_async

pytestmark = pytest.mark.django_db
SERIES = "/api/monitoring/series/"
LOGGERS = "/api/monitoring/loggers/"
ROW_FIELDS = {"time", "value", "min", "max", "flag", "valid_minutes", "exceeded"}  # issue 15's row
LOGGER_FIELDS = {"mn", "online", "last_seen", "accepted", "rejected"}  # issue 15's logger


def past_hours(n: int) -> list[dt.datetime]:
    """n consecutive whole hours, the first 30 hours ago, naive local time (as a logger sends)."""
    start = timezone.localtime().replace(minute=0, second=0, microsecond=0, tzinfo=None) - dt.timedelta(hours=30)
    return [start + dt.timedelta(hours=i) for i in range(n)]


def hour_frames(sim: SimLogger, hour: dt.datetime, cod: list[tuple[float, str]]) -> list[tuple[str, bytes]]:
    """One minute packet per (COD value, COD flag), from the hour's first minute on."""
    return [
        sim.minute_frame(hour + dt.timedelta(minutes=i), values={"w01018": value}, flags={"w01018": flag})
        for i, (value, flag) in enumerate(cod)
    ]


def send(port: int, frames: list[tuple[str, bytes]]) -> list:
    replies = run_async(exchange("127.0.0.1", port, b"".join(f for _, f in frames), replies=len(frames)))
    assert [p.qn for p in replies] == [qn for qn, _ in frames]  # each answered: each stored
    return replies


def moment(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def test_series_hour_rows_carry_valid_minutes_and_exceeded(receiver, placed_loggers, user_api):
    r = receiver()
    lg = placed_loggers(["API-SERIES-01"], limits={"w01018": (None, 50.0)})["API-SERIES-01"]
    sim = SimLogger(mn="API-SERIES-01")
    h1, h2, h3 = past_hours(3)
    send(
        r.port,
        hour_frames(sim, h1, [(60.0, "N")] * 46 + [(60.0, "D")] * 14)  # valid, above 50: exceeded
        + hour_frames(sim, h2, [(30.0, "N")] * 60)  # valid, below: not exceeded
        + hour_frames(sim, h3, [(40.0, "N")] * 44 + [(80.0, "D")] * 16),  # 44 valid minutes: not judged
    )
    hours = [h.replace(tzinfo=LOCAL) for h in (h1, h2, h3)]
    committed(lambda: judging.judge_hours([(lg.pk, h) for h in hours]))

    client = user_api("district_supervisor")
    since, until = hours[0].isoformat(), (hours[2] + dt.timedelta(hours=1)).isoformat()
    got = client.get(SERIES, {"mn": lg.mn, "factor": "w01018", "interval": "hour", "since": since, "until": until})
    assert got.status_code == 200, got.json()
    rows = got.json()
    assert all(ROW_FIELDS <= set(row) for row in rows)
    # Avg, Min and Max of the packets are v, round(0.95 v, 3), round(1.05 v, 3) (simulator); the
    # hour's min and max are those of its valid minutes; its flag the commonest gap below 45
    assert [
        (moment(x["time"]), x["value"], x["min"], x["max"], x["flag"], x["valid_minutes"], x["exceeded"]) for x in rows
    ] == [
        (hours[0], 60.0, 57.0, 63.0, "N", 46, True),
        (hours[1], 30.0, 28.5, 31.5, "N", 60, False),
        (hours[2], 40.0, 38.0, 42.0, "D", 44, None),
    ]
    assert {(x["limit_low"], x["limit_high"]) for x in rows} == {(None, 50.0)}

    # minute rows: the packets' values and flags; valid_minutes and exceeded are hour fields
    until = (hours[0] + dt.timedelta(minutes=47)).isoformat()
    minutes = client.get(
        SERIES, {"mn": lg.mn, "factor": "w01018", "interval": "minute", "since": since, "until": until}
    )
    rows = minutes.json()
    assert len(rows) == 47 and all(ROW_FIELDS <= set(row) for row in rows)
    assert [moment(x["time"]) for x in rows] == [hours[0] + dt.timedelta(minutes=i) for i in range(47)]
    assert {(x["value"], x["min"], x["max"], x["valid_minutes"], x["exceeded"]) for x in rows} == {
        (60.0, 57.0, 63.0, None, None)
    }
    assert [x["flag"] for x in rows] == ["N"] * 46 + ["D"]
    # another factor of the same packets, and an hour with nothing in it
    ph = client.get(SERIES, {"mn": lg.mn, "factor": "w01001", "interval": "minute", "since": since, "until": until})
    assert len(ph.json()) == 47 and all(x["flag"] == "N" for x in ph.json())
    empty = {"mn": lg.mn, "factor": "w01018", "interval": "hour", "until": since}
    assert client.get(SERIES, {**empty, "since": (hours[0] - dt.timedelta(hours=2)).isoformat()}).json() == []


def test_series_answers_a_logger_out_of_sight_as_absent_and_names_bad_fields(placed_loggers, user_api):
    lg = placed_loggers(["API-SERIES-02"])["API-SERIES-02"]
    q = {"mn": lg.mn, "factor": "w01018", "interval": "hour"}
    assert user_api("district_supervisor").get(SERIES, q).status_code == 200
    hidden = user_api("officer").get(SERIES, q)  # not one of his cells
    absent = user_api("district_supervisor").get(SERIES, {**q, "mn": "API-NOBODY-01"})
    assert (hidden.status_code, hidden.json()) == (absent.status_code, absent.json())
    assert (absent.status_code, absent.json()["field"]) == (404, "mn")
    for bad, field in [({"interval": "week"}, "interval"), ({"factor": "w01-18"}, "factor"), ({"since": "x"}, "since")]:
        r = user_api("district_supervisor").get(SERIES, {**q, **bad})
        assert (r.status_code, r.json()["field"]) == (400, field)


def test_loggers_online_last_seen_accepted_rejected(receiver, placed_loggers, user_api):
    r = receiver()
    made = placed_loggers(["API-LOG-TALKS", "API-LOG-SILENT"], password="right1")
    h1 = past_hours(1)[0]
    good = hour_frames(SimLogger(mn="API-LOG-TALKS", pw="right1"), h1, [(30.0, "N")] * 3)
    _, wrong_pw = SimLogger(mn="API-LOG-TALKS", pw="wrong1").minute_frame(h1 + dt.timedelta(minutes=3))
    before = timezone.now()
    replies = run_async(exchange("127.0.0.1", r.port, b"".join(f for _, f in good) + wrong_pw + good[0][1], replies=5))
    after = timezone.now()
    assert [(p.cn, p.cp.get("QnRtn")) for p in replies] == [("9014", None)] * 3 + [("9011", "3"), ("9014", None)]

    client = user_api("district_supervisor")
    body = client.get(LOGGERS, {"district": "330106", "limit": 1000}).json()
    rows = {row["mn"]: row for row in body["results"] if row["mn"] in made}
    assert set(rows) == set(made) and all(LOGGER_FIELDS <= set(row) for row in rows.values())
    talks, silent = rows["API-LOG-TALKS"], rows["API-LOG-SILENT"]
    # three packets stored, one of them sent twice (answered again, stored once), one refused
    assert (talks["online"], talks["accepted"], talks["duplicates"], talks["rejected"]) == (True, 3, 1, 1)
    assert before <= moment(talks["last_seen"]) <= after
    assert moment(talks["last_data_time"]) == (h1 + dt.timedelta(minutes=2)).replace(tzinfo=LOCAL)
    assert (talks["district"], talks["kind"]) == ("330106", "outlet")
    assert (silent["online"], silent["last_seen"], silent["accepted"], silent["rejected"]) == (False, None, 0, 0)

    def mns(**q) -> set[str]:
        return {row["mn"] for row in client.get(LOGGERS, {**q, "limit": 1000}).json()["results"]} & set(made)

    assert mns(online="true") == {"API-LOG-TALKS"} and mns(online="false") == {"API-LOG-SILENT"}
    assert mns(district="330110") == set()  # another district
    assert mns() == set(made)
    officer = {row["mn"] for row in user_api("officer").get(LOGGERS, {"limit": 1000}).json()["results"]}
    assert not officer & set(made)  # not in his cells
