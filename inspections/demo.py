"""Demo 双随机 plans (合成) for 西湖区: an inspector roster, last quarter's plan committed, drawn and
partly done (its whole draw public, so `scripts/verify_draw.py` verifies it), and this quarter's
plan committed only (its seed still secret). Made through the services; idempotent."""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import transaction
from django.utils import timezone

from gridgov.models import AdminArea, DemoLoad, GridAssignment, User

from . import services
from .models import Inspection, InspectorDuty

PARAMS = {"version": 1}
DISTRICT = "330106"
NAMESPACE = uuid.UUID("3f1c2b9e-7a41-4c1e-9a0b-2d5e8f6a4c33")
POOLS = [
    {"credit_levels": ["yellow", "red", "black"], "ratio": "1"},
    {"management_class": "key", "ratio": "0.25"},
    {"ratio": "0.1"},
]


def quarter(day: dt.date, back: int = 0) -> tuple[dt.date, dt.date]:
    q = (day.month - 1) // 3 - back
    year, q = day.year + q // 4, q % 4
    start = dt.date(year, 3 * q + 1, 1)
    end = dt.date(year + (q == 3), (3 * q + 3) % 12 + 1, 1) - dt.timedelta(days=1)
    return start, end


def _roster() -> list[User]:
    district = AdminArea.objects.get(code=DISTRICT)
    people = [User.objects.get(username="officer")]
    synthetic = (
        GridAssignment.objects.filter(cell__township__parent=district, duty="officer", user__username__startswith="go")
        .order_by("user__username")
        .values_list("user_id", flat=True)
        .distinct()[:10]
    )
    people += list(User.objects.filter(pk__in=list(synthetic)).order_by("username"))
    for u in people:
        InspectorDuty.objects.get_or_create(user=u, area=district, defaults={"certificate": f"浙执{u.pk:06d}（合成）"})
    return people


def load_demo(*, stdout, force: bool = False) -> None:
    if DemoLoad.objects.filter(name="inspections", params=PARAMS).exists() and not force:
        stdout.write("inspections demo already loaded; nothing to do")
        return
    supervisor = User.objects.filter(username="district_supervisor").first()
    if supervisor is None:  # `load_demo --no-accounts` (the benchmarks' databases): the story is the accounts'
        stdout.write("inspections demo skipped: it acts as the demo accounts, which were not loaded")
        return
    with transaction.atomic():
        people = _roster()
        today = timezone.localdate()
        start, end = quarter(today, back=1)
        last = services.plan_create(
            actor=supervisor,
            name=f"西湖区{start.year}年第{(start.month - 1) // 3 + 1}季度双随机抽查（合成）",
            period_start=start,
            period_end=end,
            scope=[DISTRICT],
            pools=POOLS,
            synthetic=True,
        )
        services.plan_commit(actor=supervisor, plan_id=last.pk)
        services.plan_draw(actor=supervisor, plan_id=last.pk)
        done = 0
        for n, inspection in enumerate(Inspection.objects.filter(plan=last).order_by("position")):
            if n % 3 == 2:
                continue  # left undone: the public page shows 未完成
            member = inspection.team.order_by("position").first().user
            services.result_record(
                actor=member,
                inspection_id=inspection.pk,
                client_uuid=uuid.uuid5(NAMESPACE, inspection.code),
                outcome="problems" if n == 1 else "pass",
                problems="危废贮存场所未设置标识，台账不全（合成）" if n == 1 else "",
                legal_basis="《中华人民共和国固体废物污染环境防治法》第八十一条" if n == 1 else "",
                category="solid_waste.hazardous",
            )
            done += 1
        start, end = quarter(today)
        current = services.plan_create(
            actor=supervisor,
            name=f"西湖区{start.year}年第{(start.month - 1) // 3 + 1}季度双随机抽查（合成）",
            period_start=start,
            period_end=end,
            scope=[DISTRICT],
            pools=POOLS,
            synthetic=True,
        )
        services.plan_commit(actor=supervisor, plan_id=current.pk)
    DemoLoad.objects.update_or_create(name="inspections", defaults={"params": PARAMS})
    stdout.write(
        f"inspections demo: roster of {len(people)}, plan {last.pk} drawn ({done} done), plan {current.pk} committed"
    )
