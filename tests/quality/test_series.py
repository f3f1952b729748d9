"""The daily air series computed many days at once equals its definitions.

`series.o3_daily_max_8h` and `aqi.daily_aqi` are the definitions (their literal values are in
test_aqi.py and test_api.py); `air_days` computes a whole range at once with numpy
(`o3_daily_max_8h_many`, `aqi.daily_aqi_many`) and must give the very same results, floats
included. The inputs below are random but made to hit what is delicate: every breakpoint,
values whose IAQI is an integer in decimal but not in floating point, O₃ 8 h above 800 in both
editions, the 20-hour, 6-hour and 14-window minimums, the 160 µg/m³ exception, gaps.
"""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from quality import aqi, series
from quality.aqi import BREAKPOINTS, DAILY, DAILY_ROWS, HJ633_2012, daily_aqi, daily_aqi_many

from .conftest import local

NEW, OLD = dt.date(2026, 3, 1), dt.date(2026, 2, 28)


def test_o3_8h_many_equals_the_definition():
    rng = random.Random(17)
    days = []
    for _ in range(4000):
        keep = rng.choice([1.0, 0.95, 0.8, 0.6, 0.3])  # from full days to too few windows
        level = rng.choice([40, 120, 155, 170, 600, 900])  # around 160 and 800
        days.append(
            [
                round(rng.uniform(0, 2 * level), rng.choice([0, 1, 3])) if rng.random() < keep else None
                for _ in range(24)
            ]
        )
    days += [[None] * 24, [100.0] * 24, [160.0] * 8 + [None] * 16, [161.0] * 8 + [None] * 16, [0.1, 0.2, 0.7] * 8]
    expected = []
    for slots in days:
        hours = [h for h, v in enumerate(slots) if v is not None]
        expected.append(series.o3_daily_max_8h(hours, [slots[h] for h in hours]) if hours else None)
    got = [None if np.isnan(v) else v for v in series.o3_daily_max_8h_many(np.array(days, dtype=float)).tolist()]
    assert got == expected
    assert sum(v is None for v in got) > 100 and sum(v is not None for v in got) > 1000


def _delicate(rng: random.Random, row: tuple[float, ...]) -> float:
    """A concentration on, just beside or between the row's breakpoints, or well above them."""
    i = rng.randrange(len(row))
    pick = rng.random()
    if pick < 0.3:
        return float(row[i])
    if pick < 0.5:
        return round(row[i] + rng.choice([-1, 1]) * rng.choice([0.1, 0.01, 0.001]), 3) if row[i] else 0.001
    if pick < 0.6:
        return round(row[-1] * rng.uniform(1, 1.5), 1)
    # decimals whose exact IAQI is often an integer (4.9 on PM2.5's row: 7.000000000000001 in floats)
    return round(rng.uniform(0, row[-1]), rng.choice([1, 2, 3]))


def test_clean_many_rounds_as_round_does():
    rng = random.Random(6)
    # means of 3-decimal values (halves at the 7th decimal: 1.000008 / 16 = 0.0625005), ties
    # exact in binary (1/128 = 0.0078125), float noise, large and negative values
    values = [round(rng.uniform(0, 500), 3) / rng.randint(1, 24) for _ in range(20000)]
    values += [sum(rng.choice([0.1, 0.2, 0.3, 1.001]) for _ in range(n)) / n for n in range(1, 25) for _ in range(50)]
    values += [1.000008 / 16, 0.0078125, 2.5e-7, 35.00000000000001, 1e6 + 0.5e-6, -0.0625005, 123456789.1234565, 0.0]
    got = series._clean_many(np.array(values))
    assert got.tolist() == [round(v, 6) for v in values]
    assert np.isnan(series._clean_many(np.array([np.nan]))[0])


def test_daily_aqi_many_equals_daily_aqi():
    rng = random.Random(633)
    days, conc = [], {k: [] for k in DAILY}
    o3_1h = []
    for i in range(6000):
        day = NEW + dt.timedelta(days=rng.randrange(-60, 60))
        days.append(day)
        rows = BREAKPOINTS[aqi.standard_for(day)]
        for key in DAILY:
            conc[key].append(None if rng.random() < 0.08 else _delicate(rng, rows[DAILY_ROWS[key]]))
        if i % 7 == 0:
            conc["o3_8h"][-1] = rng.choice([800.0, 800.5, 850.0, 1200.0])
        if i % 11 == 0:  # a clean day with one item missing: NA, unless another exceeds 100
            for key in DAILY:
                conc[key][-1] = round(rng.uniform(0, rows[DAILY_ROWS[key]][2]), 1)
            conc[rng.choice(DAILY)][-1] = None
        o3_1h.append(None if rng.random() < 0.1 else _delicate(rng, rows["o3_1h"]))
    as_array = lambda values: np.array(values, dtype=float)  # noqa: E731  (None → NaN)
    got = daily_aqi_many(days, {k: as_array(v) for k, v in conc.items()}, o3_1h=as_array(o3_1h))
    expected = [daily_aqi(day, {k: conc[k][i] for k in DAILY}, o3_1h=o3_1h[i]) for i, day in enumerate(days)]
    assert got == expected
    # what the data covered
    assert {r.standard for r in got} == {aqi.HJ633_2012, aqi.HJ633_2026}
    assert sum(r.aqi is None for r in got) > 50 and sum(len(r.primary) > 1 for r in got) > 5
    assert any(r.standard == HJ633_2012 and r.iaqi["o3_8h"] is not None and r.iaqi["o3_8h"] > 300 for r in got)


def test_daily_aqi_many_refuses_what_daily_aqi_refuses():
    with pytest.raises(ValueError, match="pm25"):
        daily_aqi_many(
            [NEW, NEW],
            {**{k: np.array([1.0, 1.0]) for k in DAILY}, "pm25": np.array([1.0, -0.1])},
            o3_1h=np.array([1.0, 1.0]),
        )
    assert daily_aqi_many([], {k: np.array([]) for k in DAILY}, o3_1h=np.array([])) == []


def test_one_offset_holds_for_shanghai_not_across_summer_time(monkeypatch):
    start = series.day_start(dt.date(2025, 12, 1))
    assert series._one_offset(start, series.day_start(dt.date(2026, 12, 1)))
    monkeypatch.setattr(series, "LOCAL", ZoneInfo("Europe/Berlin"))
    berlin = dt.datetime(2026, 3, 28, tzinfo=ZoneInfo("Europe/Berlin"))
    assert not series._one_offset(berlin, berlin + dt.timedelta(days=2))  # 29 March: 23 hours
    assert series._one_offset(berlin + dt.timedelta(days=2), berlin + dt.timedelta(days=30))


def test_the_fixed_offset_statement_equals_the_zoned_one(station, put_hours):
    """Grouping on date_bin gives the same station-days as converting each row to the zone."""
    st = station("air")
    rng = random.Random(212)
    codes = list(series.AIR_FACTORS)
    hours = {}
    for d in range(5):
        day = dt.date(2026, 2, 26) + dt.timedelta(days=d)  # across the switch
        for h in range(24):
            if rng.random() < 0.85:
                hours[local(day, h)] = {
                    c: (round(rng.uniform(0, 300), 1), "N" if rng.random() < 0.9 else rng.choice("FMD"))
                    for c in codes
                    if rng.random() < 0.95
                }
    hours[local(dt.date(2026, 3, 3), 5)] = {"a05024": (50.0, "M")}  # a day with only a flagged O₃ hour
    put_hours(st, hours)
    first, last = dt.date(2026, 2, 26), dt.date(2026, 3, 3)
    params = {
        "tz": "Asia/Shanghai",
        "ids": [st.logger_id],
        "start": series.day_start(first),
        "end": series.day_start(last + dt.timedelta(days=1)),
        "factors": [series.CODE_OF[k] for k in series.MEAN_ITEMS],
        "o3": "a05024",
    }
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(series.DAILY_AIR_SQL_ZONED, params)
        zoned = series._air_days(cursor.fetchall())
    fast = series.air_days([st.logger_id], first, last)
    assert fast == zoned
    assert len(fast) == 6 and fast[(st.logger_id, dt.date(2026, 3, 3))].result.aqi is None
    # and each day as the definitions compute it from the stored hours
    for (_, day), found in fast.items():
        rows = {t: v for t, v in hours.items() if t.astimezone(series.LOCAL).date() == day}
        valid = {c: [v[c][0] for v in rows.values() if c in v and v[c][1] == "N"] for c in codes}
        for key in series.MEAN_ITEMS:
            values = valid[series.CODE_OF[key]]
            assert found.valid_hours[key] == len(values)
            if len(values) < series.MIN_HOURS_24H:
                assert found.concentrations[key] is None
            else:
                assert found.concentrations[key] == pytest.approx(sum(values) / len(values), abs=1e-6)
        o3 = [
            (t.astimezone(series.LOCAL).hour, v["a05024"][0])
            for t, v in rows.items()
            if v.get("a05024", (0, "X"))[1] == "N"
        ]
        expected = series.o3_daily_max_8h([h for h, _ in o3], [v for _, v in o3]) if o3 else None
        assert found.concentrations["o3_8h"] == expected
        assert found.o3_1h == (max(v for _, v in o3) if o3 else None)
