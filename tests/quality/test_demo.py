"""The demo generator (quality/demo.py) on a short period: its stations are labelled 合成 and its
data look like a city's air (a seasonal PM2.5 cycle, pollution episodes).

The test database holds the demo already (tests/conftest.py loads it), so in this test's
transaction 西湖区's demo stations and loggers are renamed out of the way and the generator
registers the district's stations anew; everything is rolled back.
"""

from __future__ import annotations

import datetime as dt
import time

import numpy as np
import pytest
from django.db import connection

from gridgov.models import AdminArea
from quality import demo, series
from quality.models import Station, StationKind

from .conftest import LOCAL

pytestmark = pytest.mark.django_db

DISTRICT = "330106"  # 西湖区: one air station, two sections (西湖 a lake)
NOW = dt.datetime(2025, 8, 1, tzinfo=LOCAL)  # before the demo's year: only these data then
DAYS = 200  # 2025-01-13 … 2025-07-31: a winter and a summer


def test_the_demo_generator_labels_its_stations_and_makes_seasons_and_episodes(monkeypatch):
    t0 = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE monitoring_logger SET mn = mn || 'OLD' WHERE id IN "
            "(SELECT logger_id FROM quality_station WHERE code LIKE %s)",
            [DISTRICT + "%"],
        )
        cursor.execute("UPDATE quality_station SET code = code || 'OLD' WHERE code LIKE %s", [DISTRICT + "%"])
    district = AdminArea.objects.get(code=DISTRICT)
    rng = np.random.default_rng(demo.PARAMS["seed"])
    stations = demo.register_stations([district], rng)
    assert [(s.code, s.kind) for s in stations] == [
        ("330106A01", StationKind.AIR),
        ("330106W01", StationKind.WATER),
        ("330106W02", StationKind.WATER),
    ]
    assert all(s.name.endswith("（合成）") for s in stations), [s.name for s in stations]
    assert all(s.synthetic for s in Station.objects.filter(pk__in=[s.pk for s in stations]))

    monkeypatch.setattr(demo, "DAYS", DAYS)
    assert demo.generate(stations, rng, now=NOW) > 0
    air = stations[0]
    days = series.air_days([air.logger_id], dt.date(2025, 1, 13), dt.date(2025, 7, 31))
    assert len(days) == DAYS

    def pm25(months):
        values = [d.concentrations["pm25"] for (_, day), d in days.items() if day.month in months]
        return np.mean([v for v in values if v is not None])

    # the cycle is 29 ± 14 µg/m³ (winter high, summer low): about 43 against 15
    winter, summer = pm25({1, 2}), pm25({6, 7})
    assert winter > 1.5 * summer, (winter, summer)
    # winter haze episodes (PM2.5 × 3.2 for days): at least one day 中度污染 or worse
    worst = max(d.result.aqi or 0 for d in days.values())
    assert worst > 150, worst
    assert time.monotonic() - t0 < 20
