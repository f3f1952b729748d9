"""Demo credit records (合成) for the enterprises of 西湖区: every level of the five colours, with
history, entered through the services as a district supervisor would (idempotent).

Runs after the sources demo; it registers its own eight enterprises (fixed credit codes, 合成)
through the sources app's service, so the five colours are all on show whatever that demo has.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.gis.geos import Point
from django.db import transaction
from django.utils import timezone

from gridgov.models import DemoLoad, GridCell, Role, User
from sources.codes import check_character
from sources.models import Enterprise
from sources.services import enterprise_register

from . import services
from .models import Penalty, VetoFinding

PARAMS = {"version": 1}
DISTRICT = "330106"

# (penalties as (kind, amount, days ago), veto as (kind, days ago) or None, commitment days ago)
STORY = [
    ([], None, None),
    ([("warning", 0, 40)], None, None),
    ([("fine", 80_000, 90)], None, None),
    ([("stop_production", 0, 200)], None, 190),
    ([("fine", 1_200_000, 30), ("warning", 0, 10)], None, None),
    ([], ("bypass", 20), None),
    ([("crime", 0, 60)], None, None),
    ([("fine", 30_000, 250)], None, None),
]


def _spot(cell):
    """A point inside the cell a little off its point_on_surface (where other demos put theirs)."""
    p, c = cell.geom.point_on_surface, cell.geom.centroid
    for t in (0.35, 0.2, 0.1):
        q = Point(p.x + t * (c.x - p.x), p.y + t * (c.y - p.y), srid=p.srid)
        if cell.geom.covers(q):
            return q
    return p


def demo_code(n: int) -> str:
    body = f"91{DISTRICT}MA{8100 + n:07d}"
    return body + check_character(body)


def _enterprises(stdout) -> list[Enterprise]:
    """The credit demo's own enterprises (fixed credit codes), registered if missing.

    All in 西湖第1街道, away from the demo officer's own cells: the other townships of 西湖区 stay
    free of credit-demo enterprises, for the tests' plans."""
    cells = list(
        GridCell.objects.filter(township__code=f"{DISTRICT}001")
        .exclude(assignments__user__username="officer")
        .order_by("code")
    )
    found = []
    for n in range(len(STORY)):
        code = demo_code(n)
        existing = Enterprise.objects.filter(credit_code=code).first()
        if existing is not None:
            found.append(existing)
            continue
        p = _spot(cells[n * 5 % len(cells)])
        key = n % 3 != 2
        found.append(
            enterprise_register(
                actor=None,
                credit_code=code,
                name=f"西湖信用示例企业{n + 1:02d}（合成）",
                industry_code="2614",
                management_class="key" if key else "simplified",
                lat=round(p.y, 7),
                lon=round(p.x, 7),
                permit={"number": f"{code}001P", "valid_from": dt.date(2024, 1, 1), "valid_to": dt.date(2029, 1, 1)},
                synthetic=True,
            )
        )
    stdout.write(f"credit demo: {len(found)} synthetic enterprises in 西湖第1街道")
    return found


# The demo account of an enterprise's 环保联络员: the fourth enterprise of STORY, whose order to
# stop production (200 days ago, counted 12 months) is past the minimum display period of three
# months, so its contact can ask for credit repair on the first day.
CONTACT = ("enterprise_contact", "西湖信用示例企业04环保联络员（演示）", 3)


def _contact() -> None:
    """The enterprise contact's demo account (idempotent; password DEMO_PASSWORD)."""
    username, name, n = CONTACT
    enterprise = Enterprise.objects.filter(credit_code=demo_code(n)).select_related("organization").first()
    if enterprise is None:
        return
    user, created = User.objects.get_or_create(
        username=username, defaults={"role": Role.ENTERPRISE_CONTACT, "organization": enterprise.organization}
    )
    user.role, user.organization, user.first_name = Role.ENTERPRISE_CONTACT, enterprise.organization, name
    if created or not user.check_password(settings.DEMO_PASSWORD):
        user.set_password(settings.DEMO_PASSWORD)
    user.save()


def load_demo(*, stdout, force: bool = False) -> None:
    if DemoLoad.objects.filter(name="credit", params=PARAMS).exists() and not force:
        _contact()
        stdout.write("credit demo already loaded; nothing to do")
        return
    supervisor = User.objects.filter(username="district_supervisor").first()
    if supervisor is None:  # `load_demo --no-accounts` (the benchmarks' databases): the story is the accounts'
        stdout.write("credit demo skipped: it acts as the demo accounts, which were not loaded")
        return
    with transaction.atomic():
        today = timezone.localdate()
        enterprises = _enterprises(stdout)
        for n, (e, (penalties, veto, commitment)) in enumerate(zip(enterprises, STORY, strict=False)):
            for i, (kind, amount, ago) in enumerate(penalties):
                number = f"杭西环罚〔合成〕{n:02d}{i}号"
                if not Penalty.objects.filter(decision_number=number).exists():
                    services.penalty_create(
                        actor=supervisor,
                        credit_code=e.credit_code,
                        decision_number=number,
                        decided_on=today - dt.timedelta(days=ago),
                        kind=kind,
                        amount_yuan=amount,
                    )
            if veto and not VetoFinding.objects.filter(credit_code=e.credit_code).exists():
                services.veto_create(
                    actor=supervisor,
                    credit_code=e.credit_code,
                    kind=veto[0],
                    found_on=today - dt.timedelta(days=veto[1]),
                    reference=f"西环查〔合成〕{n:02d}号",
                )
            if commitment:
                services.commitment_record(
                    actor=supervisor, credit_code=e.credit_code, signed_on=today - dt.timedelta(days=commitment)
                )
    expired = services.credit_expire_due()
    rewarded = services.credit_rewards_due()
    _contact()
    DemoLoad.objects.update_or_create(name="credit", defaults={"params": PARAMS})
    stdout.write(f"credit demo: {len(STORY)} enterprises scored, {expired} expiries, {rewarded} rewards")
