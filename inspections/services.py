"""Writes of 双随机一公开: plans, the commit–reveal draw, results recorded on site.

Each service is keyword-only, runs in one transaction, locks the plan it changes and writes a
`PlanEvent`. A plan moves draft → committed → drawn, and nothing of it changes after the commit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
import uuid
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from credit.models import Level
from gridgov.errors import Conflict, Forbidden, InvalidInput, NotFound
from gridgov.jurisdiction import user_scope
from gridgov.models import AdminArea, AreaLevel, Role, User
from patrol.actions.reporting import issue_report

from . import draw as algorithm
from .models import (
    Inspection,
    InspectionInspector,
    InspectionResult,
    Outcome,
    Plan,
    PlanEvent,
    PlanStatus,
    Pool,
)
from .selectors import (
    avoidance_pairs,
    eligible_inspectors,
    enterprise_points,
    plan_get,
    plan_roster,
    pool_members,
)

PLANNER_ROLES = {Role.CITY_SUPERVISOR, Role.DISTRICT_SUPERVISOR}
SEED_BYTES = 32


def can_plan(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and (user.is_superuser or user.role in PLANNER_ROLES))


def _event(plan: Plan, action: str, actor, data: dict | None = None) -> None:
    PlanEvent.objects.create(
        plan=plan,
        action=action,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        at=timezone.now(),
        data=data or {},
    )


def _scope_areas(*, actor, codes: list[str]) -> list[AdminArea]:
    areas = {a.code: a for a in AdminArea.objects.filter(code__in=codes).exclude(level=AreaLevel.CITY).defer("geom")}
    scope = user_scope(actor)
    for code in codes:
        area = areas.get(code)
        if area is None or not scope.contains_area(area):
            raise InvalidInput(
                _("抽查范围：区划代码 %(code)s 不存在或不在您的管辖范围内。") % {"code": code},
                code="scope_not_found",
                field="scope",
            )
    return [areas[c] for c in codes]


def _inspector_users(*, usernames: list[str] | None, areas: list[AdminArea]) -> list[User]:
    if not usernames:
        return []
    eligible = {u.username: u for u in eligible_inspectors(areas=areas)}
    for name in usernames:
        if name not in eligible:
            raise InvalidInput(
                _("执法人员：%(name)s 不在抽查范围的执法人员名录中。") % {"name": name},
                code="inspector_not_eligible",
                field="inspectors",
            )
    return [eligible[n] for n in dict.fromkeys(usernames)]


def _write_pools(plan: Plan, pools: list[dict]) -> None:
    plan.pools.all().delete()
    for position, spec in enumerate(pools):
        pool = Pool(
            plan=plan,
            position=position,
            management_class=spec.get("management_class") or "",
            credit_levels=list(dict.fromkeys(spec.get("credit_levels") or [])),
            ratio=Decimal(spec["ratio"]),
        )
        pool.full_clean(exclude=["plan"])
        pool.save()


@transaction.atomic
def plan_create(
    *,
    actor,
    name: str,
    period_start: dt.date,
    period_end: dt.date,
    scope: list[str],
    pools: list[dict],
    inspectors: list[str] | None = None,
    per_inspection: int = 2,
    synthetic: bool = False,
) -> Plan:
    """A draft plan in the actor's jurisdiction."""
    if not can_plan(actor):
        raise Forbidden(_("只有市、区县监管人员可以制定抽查计划。"), code="not_planner")
    areas = _scope_areas(actor=actor, codes=scope)
    users = _inspector_users(usernames=inspectors, areas=areas)
    plan = Plan(
        name=name,
        period_start=period_start,
        period_end=period_end,
        per_inspection=per_inspection,
        publish_days=settings.INSPECTIONS_PUBLISH_DAYS,
        created_by=actor,
        synthetic=synthetic,
    )
    plan.full_clean()
    plan.save()
    plan.scope.set(areas)
    plan.inspectors.set(users)
    _write_pools(plan, pools)
    _event(plan, "create", actor, {"scope": scope, "pools": len(pools)})
    return plan


def _locked_plan(*, actor, plan_id: int) -> Plan:
    plan_get(user=actor, plan_id=plan_id)  # 404 outside the actor's jurisdiction
    if not can_plan(actor):
        raise Forbidden(_("只有市、区县监管人员可以操作抽查计划。"), code="not_planner")
    return Plan.objects.select_for_update().get(pk=plan_id)


@transaction.atomic
def plan_update(*, actor, plan_id: int, **changes) -> Plan:
    """Edit a draft; a committed plan is frozen (409)."""
    plan = _locked_plan(actor=actor, plan_id=plan_id)
    if plan.status != PlanStatus.DRAFT:
        raise Conflict(_("计划已承诺（种子摘要已公布），不能再修改。"), code="plan_frozen", field=None)
    areas = None
    if "scope" in changes:
        areas = _scope_areas(actor=actor, codes=changes["scope"])
    for field in ("name", "period_start", "period_end", "per_inspection"):
        if field in changes:
            setattr(plan, field, changes[field])
    plan.full_clean()
    plan.save()
    if areas is not None:
        plan.scope.set(areas)
    if "inspectors" in changes:
        plan.inspectors.set(_inspector_users(usernames=changes["inspectors"], areas=list(plan.scope.all())))
    if "pools" in changes:
        _write_pools(plan, changes["pools"])
    _event(plan, "update", actor, {"fields": sorted(changes)})
    return plan


def plan_inputs(plan: Plan) -> tuple[dict, dict[str, int]]:
    """Freeze the plan into the draw's inputs (the object whose digest is published), and
    the private map from inspector key to user id."""
    areas = list(plan.scope.all().defer("geom"))
    pools = list(plan.pools.order_by("position"))
    members = pool_members(areas=areas, pools=pools)
    roster = plan_roster(plan=plan, areas=areas)
    keys = {uid: f"I{n:03d}" for n, (uid, _username, _name) in enumerate(roster, start=1)}
    avoided = avoidance_pairs(plan=plan, areas=areas, user_ids=list(keys), codes=set().union(*members))
    # sorted (key, code) pairs: keys are unique per user, so by key, then each key's codes
    pairs = [
        [k, code] for k, uid in sorted((k, uid) for uid, k in keys.items()) for code in sorted(avoided.get(uid, ()))
    ]
    district = areas[0].code[:6] if areas else "000000"
    inputs = {
        "algorithm": algorithm.ALGORITHM,
        "plan": plan.pk,
        "code_prefix": f"JC{district}{plan.pk:05d}",
        "per_inspection": plan.per_inspection,
        "pools": [
            {
                "label": pool_label(p),
                "management_class": p.management_class or None,
                "credit_levels": p.credit_levels or None,
                "ratio": _ratio_text(p.ratio),
                "sources": m,
            }
            for p, m in zip(pools, members, strict=True)
        ],
        "inspectors": [{"key": keys[uid], "name": name} for uid, _username, name in roster],
        "avoid": pairs,
    }
    return inputs, {k: uid for uid, k in keys.items()}


def _ratio_text(ratio: Decimal) -> str:
    text = format(ratio.quantize(Decimal("0.0001")), "f").rstrip("0").rstrip(".")
    return text or "0"


def pool_label(pool: Pool) -> str:
    parts = [str(pool.get_management_class_display()) if pool.management_class else _("全部类别")]
    if pool.credit_levels:
        parts.append("/".join(str(Level(v).label) for v in pool.credit_levels))
    return " · ".join(parts) + f" {_ratio_text(pool.ratio * 100)}%"


@transaction.atomic
def plan_commit(*, actor, plan_id: int) -> Plan:
    """Freeze the inputs and publish SHA-256(seed) and SHA-256(inputs); once only."""
    plan = _locked_plan(actor=actor, plan_id=plan_id)
    if plan.status != PlanStatus.DRAFT:
        raise Conflict(_("计划已承诺，不能重复承诺。"), code="already_committed", field=None)
    if not plan.pools.exists():
        raise InvalidInput(_("抽查池：至少需要一个抽查池。"), code="no_pools", field="pools")
    inputs, keys = plan_inputs(plan)
    if len(inputs["inspectors"]) < plan.per_inspection:
        raise Conflict(
            _("执法人员不足：名录中只有 %(n)s 人，每次检查需 %(need)s 人。")
            % {"n": len(inputs["inspectors"]), "need": plan.per_inspection},
            code="too_few_inspectors",
            field="inspectors",
        )
    seed = secrets.token_hex(SEED_BYTES)
    plan.seed = seed
    plan.seed_sha256 = algorithm.sha256_hex(seed.encode("utf-8"))
    plan.inputs = inputs
    plan.inspector_keys = keys
    plan.inputs_sha256 = algorithm.sha256_hex(algorithm.canonical(inputs))
    plan.algorithm = algorithm.ALGORITHM
    plan.status = PlanStatus.COMMITTED
    plan.committed_at = timezone.now()
    plan.full_clean()
    plan.save()
    _event(plan, "commit", actor, {"seed_sha256": plan.seed_sha256, "inputs_sha256": plan.inputs_sha256})
    return plan


@transaction.atomic
def plan_draw(*, actor, plan_id: int) -> Plan:
    """Reveal the seed and draw; a source that cannot be staffed stops the draw (409, nothing drawn)."""
    plan = _locked_plan(actor=actor, plan_id=plan_id)
    if plan.status == PlanStatus.DRAFT:
        raise Conflict(_("请先承诺（公布种子摘要）再抽取。"), code="not_committed", field=None)
    if plan.status == PlanStatus.DRAWN:
        raise Conflict(_("计划已抽取，不能重复抽取。"), code="already_drawn", field=None)
    try:
        drawn = algorithm.draw(plan.seed, plan.inputs)
    except algorithm.DrawError as exc:
        pool = plan.inputs["pools"][exc.pool]
        raise Conflict(
            _(
                "第 %(n)s 个抽查池（%(pool)s）：企业 %(code)s 回避后只剩 %(eligible)s 名执法人员，"
                "每次检查需 %(need)s 名；未抽取任何检查。"
            )
            % {
                "n": exc.pool + 1,
                "pool": pool["label"],
                "code": exc.credit_code,
                "eligible": exc.eligible,
                "need": exc.needed,
            },
            code="inspector_pool_too_small",
            field="inspectors",
            extra={"pool": exc.pool, "credit_code": exc.credit_code},
        )
    users = {u.pk: u for u in User.objects.filter(pk__in=plan.inspector_keys.values())}
    by_key = {k: users[uid] for k, uid in plan.inspector_keys.items()}
    for position, d in enumerate(drawn, start=1):
        inspection = Inspection(plan=plan, position=position, pool=d.pool, credit_code=d.credit_code, code=d.code)
        inspection.full_clean(exclude=["plan"])
        inspection.save()
        InspectionInspector.objects.bulk_create(
            [
                InspectionInspector(inspection=inspection, user=by_key[k], key=k, position=i)
                for i, k in enumerate(d.inspectors)
            ]
        )
    plan.status = PlanStatus.DRAWN
    plan.drawn_at = timezone.now()
    plan.save(update_fields=["status", "drawn_at", "updated_at"])
    _event(plan, "draw", actor, {"inspections": len(drawn)})
    return plan


# --- Results on site -------------------------------------------------------------------------


def _digest(**fields) -> str:
    return hashlib.sha256(json.dumps(fields, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


NAMESPACE = uuid.UUID("8d7f6f0e-4a8e-4d0c-93a3-6c7c1f0b9e21")


@transaction.atomic
def result_record(
    *,
    actor,
    inspection_id: int,
    client_uuid: uuid.UUID,
    outcome: str,
    problems: str = "",
    legal_basis: str = "",
    photo_hashes: list[str] | None = None,
    category: str = "other",
    point=None,
) -> tuple[InspectionResult, bool]:
    """Record the result (合格 or problems); exactly once by client_uuid; bool = created.

    Problems open a case (source 执法检查) at the enterprise, in the closed loop; the case, once
    accepted, is the inspection's credit evidence (inspections.receivers)."""
    photo_hashes = sorted({h.lower() for h in photo_hashes or []})
    digest = _digest(
        inspection=inspection_id, outcome=outcome, problems=problems, legal_basis=legal_basis, photos=photo_hashes
    )
    inspection = (
        Inspection.objects.select_for_update().filter(pk=inspection_id, team__user=actor).select_related("plan").first()
    )
    if inspection is None:
        raise NotFound(_("检查任务不存在。"), code="inspection_not_found", field="inspection")
    existing = InspectionResult.objects.filter(client_uuid=client_uuid).first()
    if existing is not None:
        if existing.content_digest != digest:
            raise Conflict(
                _("该客户端编号已用于另一份内容不同的检查结果。"), code="client_uuid_reused", field="client_uuid"
            )
        return existing, False
    if InspectionResult.objects.filter(inspection=inspection).exists():
        raise Conflict(_("该检查已记录结果。"), code="result_exists", field="inspection")
    if outcome == Outcome.PROBLEMS and not problems.strip():
        raise InvalidInput(_("发现的问题：请描述发现的问题。"), code="problems_required", field="problems")
    if outcome == Outcome.PROBLEMS and not legal_basis.strip():
        raise InvalidInput(_("法律依据：请填写违反的法律条款。"), code="legal_basis_required", field="legal_basis")
    now = timezone.now()
    issue = None
    if outcome == Outcome.PROBLEMS:
        where = point or enterprise_points([inspection.credit_code]).get(inspection.credit_code)
        if where is None:
            raise Conflict(_("企业没有位置，无法立案。"), code="enterprise_without_location", field="inspection")
        description = _("双随机检查 %(code)s 发现问题：%(problems)s（依据：%(basis)s）") % {
            "code": inspection.code,
            "problems": problems.strip(),
            "basis": legal_basis.strip(),
        }
        issue, _created = issue_report(
            reporter=actor,
            point=where,
            category=category,
            description=description[:4000],
            source="inspection",
            client_uuid=uuid.uuid5(NAMESPACE, str(client_uuid)),
            photo_hashes=photo_hashes,
        )
    result = InspectionResult(
        inspection=inspection,
        client_uuid=client_uuid,
        content_digest=digest,
        outcome=outcome,
        problems=problems.strip(),
        legal_basis=legal_basis.strip(),
        photo_hashes=photo_hashes,
        point=point,
        recorded_by=actor,
        recorded_at=now,
        issue=issue,
    )
    result.full_clean(exclude=["inspection", "issue", "recorded_by"])
    result.save()
    inspection.outcome, inspection.done_at = outcome, now
    inspection.save(update_fields=["outcome", "done_at"])
    _event(inspection.plan, "result", actor, {"inspection": inspection.code, "outcome": outcome})
    return result, True
