"""Demo data for the patrol loop: dispatch rules, the Open311 key, synthetic cases in 西湖区.

Every case here is synthetic (合成) and made through the services, so its audit trail is what
the actions write (the year of history around them is bulk data: `dashboard.demo`).
Cases are keyed by a deterministic client_uuid: loading twice creates nothing new, and the
audit rows (append-only) are never deleted.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid

from django.db import transaction
from django.utils import timezone

from gridgov.demo import synthetic_photo
from gridgov.models import AdminArea, DemoLoad, GridCell, Organization, User

from .actions.escalation import issues_escalate_overdue
from .actions.photos import photo_store
from .actions.reporting import issue_report
from .actions.transitions import (
    issue_accept,
    issue_dispatch,
    issue_fail,
    issue_publish,
    issue_reject,
    issue_start_rectification,
    issue_submit_rectification,
    issue_verify,
)
from .models import ApiKey, DispatchRule, Issue
from .open311 import demo_key

PARAMS = {"version": 1, "cases": 36}
NAMESPACE = uuid.UUID("5b0e2f1c-9d53-4c53-9a57-0b6f8f2a7a11")

DEPARTMENT_FOR = {
    "air": "生态环境分局",
    "water": "林业水利局",
    "solid_waste": "城市管理局",
    "noise": "生态环境分局",
    "soil": "生态环境分局",
    "ecology": "林业水利局",
    "small_polluters": "生态环境分局",
    "other": "城市管理局",
}

CASES = [
    ("air.open_burning", "田间露天焚烧垃圾，烟雾较大"),
    ("air.dust", "工地裸土未覆盖，车辆带泥上路"),
    ("air.catering_fumes", "沿街餐馆油烟直排"),
    ("water.river_litter", "河道漂浮垃圾"),
    ("water.illegal_discharge", "雨水口有不明污水排出"),
    ("solid_waste.illegal_dumping", "路边倾倒建筑垃圾"),
    ("noise.construction", "夜间施工噪声扰民"),
    ("ecology.illegal_logging", "山林疑似被砍伐"),
    ("small_polluters.workshop", "居民区内小作坊喷漆"),
    ("other", "其他环境问题"),
]

# The state each synthetic case is brought to, in order of the loop.
STAGES = [
    "reported",
    "verified",
    "dispatched",
    "rectifying",
    "submitted",
    "accepted",
    "failed",
    "rejected",
    "published",
    "overdue",
    "overdue",
    "dispatched",
]


def load_demo(*, stdout, force: bool) -> None:
    if DemoLoad.objects.filter(name="patrol", params=PARAMS).exists() and not force:
        stdout.write("patrol demo already loaded; nothing to do")
        return
    with transaction.atomic():
        rules = _dispatch_rules()
        _open311_key()
        made = _cases()
        DemoLoad.objects.update_or_create(name="patrol", defaults={"params": PARAMS})
    stdout.write(f"patrol demo: {rules} dispatch rules, Open311 key, {made} new synthetic cases (合成)")


def _dispatch_rules() -> int:
    count = 0
    for district in AdminArea.objects.filter(level="district"):
        default = Organization.objects.filter(name=f"{district.name}城市管理局（演示）").first()
        if default:
            DispatchRule.objects.get_or_create(
                category=None, area=district, defaults={"organization": default, "note": "演示：区县默认"}
            )
            count += 1
        if district.code != "330106":
            continue
        for category, dept in DEPARTMENT_FOR.items():
            org = Organization.objects.filter(name=f"{district.name}{dept}（演示）").first()
            if org:
                DispatchRule.objects.get_or_create(
                    category_id=category, area=district, defaults={"organization": org, "note": "演示"}
                )
                count += 1
    return count


def _open311_key() -> None:
    ApiKey.objects.get_or_create(key=demo_key(), defaults={"name": "演示公众 App（合成）"})


def _cases() -> int:
    users = {
        u.username: u
        for u in User.objects.filter(
            username__in=["officer", "district_supervisor", "responsible_unit", "township_supervisor"]
        )
    }
    if len(users) < 4:
        return 0
    cells = list(GridCell.objects.filter(township__parent__code="330106").order_by("code"))
    if not cells:
        return 0
    rng = random.Random(20261128)
    unit = users["responsible_unit"].organization or Organization.objects.filter(name__startswith="西湖区").first()
    sup, ru, officer = users["district_supervisor"], users["responsible_unit"], users["officer"]
    made = 0
    for i in range(PARAMS["cases"]):
        cid = uuid.uuid5(NAMESPACE, f"case-{i}")
        if Issue.objects.filter(client_uuid=cid).exists():
            continue
        category, text = CASES[i % len(CASES)]
        cell = cells[rng.randrange(len(cells))]
        point = cell.geom.point_on_surface
        issue, created = issue_report(
            reporter=officer,
            point=point,
            category=category,
            description=f"{text}（合成演示）",
            client_uuid=cid,
            accuracy_m=round(rng.uniform(4, 25), 1),
        )
        made += created
        _bring_to(STAGES[i % len(STAGES)], pk=issue.pk, seed=i, text=text, sup=sup, ru=ru, unit=unit)
    issues_escalate_overdue()
    return made


# The loop in order; each stage of STAGES is reached by the steps up to it ("overdue" and
# "failed" branch off "dispatched" and "submitted").
LOOP = ["verified", "dispatched", "rectifying", "submitted", "accepted", "published"]
BRANCH = {"overdue": "dispatched", "failed": "submitted"}


def _bring_to(stage: str, *, pk: int, seed: int, text: str, sup, ru, unit) -> None:
    """Take the synthetic case `pk` through the services to `stage`."""
    if stage == "reported":
        return
    if stage == "rejected":
        issue_reject(issue_id=pk, actor=sup, note="核实不属实（合成）")
        return
    steps = {
        "verified": lambda: issue_verify(issue_id=pk, actor=sup, note="经核实属实（合成）"),
        "dispatched": lambda: issue_dispatch(
            issue_id=pk, actor=sup, unit_id=unit.pk if unit else None, note="请限期整改（合成）"
        ),
        "rectifying": lambda: issue_start_rectification(issue_id=pk, actor=ru, note="已安排人员（合成）"),
        "submitted": lambda: issue_submit_rectification(
            issue_id=pk,
            actor=ru,
            photo_hashes=[photo_store(data=_demo_jpeg(seed), uploaded_by=ru)[0].sha256],
            note="已整改完毕（合成）",
        ),
        "accepted": lambda: issue_accept(issue_id=pk, actor=sup, note="复查合格（合成）"),
        "published": lambda: issue_publish(
            issue_id=pk, actor=sup, public_text=f"典型案例：{text}，已督促整改到位（合成演示）"
        ),
    }
    goal = BRANCH.get(stage, stage)
    for reached in LOOP[: LOOP.index(goal) + 1]:
        steps[reached]()
    if stage == "overdue":
        # Synthetic history: a case dispatched long ago whose deadline has passed, so the
        # escalation job has something to do in the demo.
        now = timezone.now()
        Issue.objects.filter(pk=pk).update(
            dispatched_at=now - dt.timedelta(days=20), deadline=now - dt.timedelta(days=3)
        )
    elif stage == "failed":
        issue_fail(issue_id=pk, actor=sup, note="复查仍有问题（合成）")


def _demo_jpeg(seed: int) -> bytes:
    return synthetic_photo(
        stage="after", title=f"演示案件 {seed} · 整改照片", caption="演示数据，非真实现场", seed=seed
    )
