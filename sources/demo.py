"""Demo pollution sources (合成): a few hundred enterprises across the 13 districts, their
permits and monitored outlets with data loggers. All made through the services, so their
audit trail, organizations and places are real; all labelled 合成 and marked synthetic.

Deterministic (seeded) and idempotent: loaded once per parameter set (`DemoLoad` "sources");
`--force` rebuilds them (their old cases stay, as every case's history does). One showcase
enterprise sits in the demo grid officer's first cell of 西湖第1街道 with a fixed credit code
and logger MN (SHOWCASE_CODE, monitoring.demo.SHOWCASE_MN): its data include a recent
exceedance episode, so the demo accounts find a case, a chart and an open-exceedance badge.
The data themselves are made by `monitoring.demo`.
"""

from __future__ import annotations

import datetime as dt
import time

import numpy as np
from django.db import connection, transaction

from gridgov.models import AdminArea, DemoLoad, GridCell
from monitoring.demo import SHOWCASE_MN
from monitoring.models import Logger

from . import services
from .codes import CHARSET, check_character
from .models import Enterprise, ManagementClass

PARAMS = {"version": 1, "seed": 20261201, "enterprises": 300}
SHOWCASE_CODE = "91330106MA2GRD0G0" + check_character("91330106MA2GRD0G0")
SHOWCASE_NAME = "杭州西湖示范印染有限公司（合成）"

# GB/T 4754-2017 code, words of a name, which outlets (W water, A air), limits per factor
INDUSTRIES = [
    ("1713", "印染", "W", {"w01018": 80, "w21003": 10, "w01001": (6, 9)}),
    ("2614", "化工", "WA", {"w01018": 60, "w21003": 8, "w01001": (6, 9), "a24088": 60, "a21002": 100}),
    ("2221", "纸业", "W", {"w01018": 90, "w21003": 8, "w21011": 0.8}),
    ("3360", "表面处理", "W", {"w01018": 80, "w21003": 15, "w20122": 1.0}),
    ("4411", "热电", "A", {"a21026": 35, "a21002": 50, "a34013": 10}),
    ("3011", "水泥", "A", {"a21026": 100, "a21002": 150, "a34013": 20}),
    ("2710", "制药", "WA", {"w01018": 100, "w21003": 20, "w01001": (6, 9), "a24088": 60}),
    ("4620", "水务", "W", {"w01018": 50, "w21003": 5, "w21011": 0.5, "w01001": (6, 9)}),
    ("1511", "酿造", "W", {"w01018": 100, "w21003": 10}),
    ("3130", "钢铁", "A", {"a21026": 50, "a21002": 100, "a34013": 10}),
]
PLACES = [
    "钱塘",
    "富春",
    "西溪",
    "良渚",
    "临平",
    "萧然",
    "湘湖",
    "天目",
    "新安",
    "千岛",
    "桐君",
    "分水",
    "瓶窑",
    "塘栖",
]
WORDS = ["宏达", "远航", "恒信", "瑞丰", "长青", "汇通", "鼎盛", "华润", "明珠", "新锐", "金源", "绿洲", "东方", "永兴"]
CLASS_WEIGHTS = ([ManagementClass.KEY, ManagementClass.SIMPLIFIED, ManagementClass.REGISTRATION], [0.22, 0.4, 0.38])


def load_demo(*, stdout, force: bool = False) -> None:
    if DemoLoad.objects.filter(name="sources", params=PARAMS).exists() and not force:
        stdout.write("sources demo already loaded; nothing to do")
        return
    t0 = time.monotonic()
    with transaction.atomic():
        _clear()
        enterprises, outlets = _build(np.random.default_rng(PARAMS["seed"]))
        DemoLoad.objects.update_or_create(name="sources", defaults={"params": PARAMS})
        DemoLoad.objects.filter(name="monitoring").delete()  # its data follow the loggers
    stdout.write(
        f"sources demo: {enterprises} synthetic enterprises (合成), {outlets} monitored outlets "
        f"in {time.monotonic() - t0:.1f}s"
    )


def _clear() -> None:
    """Remove earlier demo sources, their loggers and the data those loggers sent."""
    loggers = list(Logger.objects.filter(synthetic=True, kind="outlet").values_list("pk", flat=True))
    for enterprise in Enterprise.objects.filter(synthetic=True).select_related("organization"):
        enterprise.organization.delete()  # the enterprise, its permit and outlets go with it
    if loggers:
        with connection.cursor() as cursor:
            for table in ("monitoring_reading", "monitoring_packet", "monitoring_pendinghour", "monitoring_part"):
                cursor.execute(f"DELETE FROM {table} WHERE logger_id = ANY(%s)", [loggers])
        Logger.objects.filter(pk__in=loggers).delete()


def _credit_code(district: str, rng: np.random.Generator) -> str:
    body = "91" + district + "".join(CHARSET[i] for i in rng.integers(0, 31, 9))
    return body + check_character(body)


def _build(rng: np.random.Generator) -> tuple[int, int]:
    districts = list(AdminArea.objects.filter(level="district").order_by("code").values_list("id", "code"))
    cells = list(GridCell.objects.select_related("township").order_by("code").only("id", "code", "geom", "township"))
    by_district: dict[int, list[GridCell]] = {}
    for cell in cells:
        by_district.setdefault(cell.township.parent_id, []).append(cell)
    # at least 8 per district, the rest where the cells are
    picks: list[GridCell] = []
    for district_id, _ in districts:
        pool = by_district.get(district_id, [])
        picks += [pool[i] for i in rng.choice(len(pool), size=min(8, len(pool)), replace=False)]
    taken = {c.pk for c in picks}
    rest = [c for c in cells if c.pk not in taken]
    extra = PARAMS["enterprises"] - 1 - len(picks)
    picks += [rest[i] for i in rng.choice(len(rest), size=max(0, extra), replace=False)]
    names: set[str] = set()
    made = outlets = 0
    serial = 1
    showcase_cell = GridCell.objects.filter(assignments__user__username="officer").order_by("code").first()
    plan = [(showcase_cell, True)] if showcase_cell else []
    plan += [(c, False) for c in picks]
    for cell, showcase in plan:
        p = cell.geom.point_on_surface
        district = cell.code[:6]
        industry = INDUSTRIES[0] if showcase else INDUSTRIES[int(rng.integers(len(INDUSTRIES)))]
        code_, word, kinds, limits = industry
        klass = ManagementClass.KEY if showcase else ManagementClass(rng.choice(CLASS_WEIGHTS[0], p=CLASS_WEIGHTS[1]))
        if showcase:
            credit, name = SHOWCASE_CODE, SHOWCASE_NAME
        else:
            credit = _credit_code(district, rng)
            name = f"杭州{rng.choice(PLACES)}{rng.choice(WORDS)}{word}有限公司（合成）"
            while name in names:
                name = name.replace("有限公司", "实业有限公司", 1)
        names.add(name)
        permit = None
        if klass != ManagementClass.REGISTRATION:
            start = dt.date(2021 + int(rng.integers(4)), 1 + int(rng.integers(12)), 1)
            permit = {"number": f"{credit}001P", "valid_from": start, "valid_to": start.replace(year=start.year + 5)}
        enterprise = services.enterprise_register(
            actor=None,
            credit_code=credit,
            name=name,
            industry_code=code_,
            management_class=klass,
            lat=p.y,
            lon=p.x,
            permit=permit,
            synthetic=True,
        )
        made += 1
        monitored = klass == ManagementClass.KEY or (klass == ManagementClass.SIMPLIFIED and rng.random() < 0.15)
        if not monitored:
            continue
        for kind in kinds if klass == ManagementClass.KEY else kinds[:1]:
            outlet_code = f"D{kind}001"
            factors = {f: v for f, v in limits.items() if f.startswith("w" if kind == "W" else "a")}
            mn = SHOWCASE_MN if showcase and kind == "W" else f"{district}{outlet_code}{serial:013d}"
            serial += 1
            services.outlet_add(
                actor=None,
                enterprise=enterprise,
                code=outlet_code,
                lat=p.y,
                lon=p.x,
                mn=mn,
                password="123456",
                limits={f: (v[0], v[1]) if isinstance(v, tuple) else (None, float(v)) for f, v in factors.items()},
                synthetic=True,
            )
            outlets += 1
    return made, outlets
