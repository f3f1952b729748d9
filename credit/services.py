"""Writes of the credit app: evidence in, score and level recomputed in the same transaction.

Every function is keyword-only and runs in one transaction that locks the enterprise's
`CreditStanding` row, so two pieces of evidence for one enterprise are applied one after the
other and each history row's `score` is the score right after it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gridgov.errors import Conflict, Forbidden, InvalidInput, NotFound
from gridgov.jurisdiction import user_scope
from gridgov.models import Role

from . import engine
from .models import (
    CreditRule,
    CreditScheme,
    CreditStanding,
    Evidence,
    EvidenceKind,
    Penalty,
    RepairRequest,
    ScoreChange,
    VetoFinding,
)
from .selectors import enterprise_area, enterprise_for_contact

FOREVER = dt.date.max
SUPERVISOR_ROLES = {Role.CITY_SUPERVISOR, Role.DISTRICT_SUPERVISOR}


def scheme() -> engine.Scheme:
    row = CreditScheme.objects.order_by("pk").first()
    if row is None:
        return engine.Scheme()
    return engine.Scheme(**{f.name: getattr(row, f.name) for f in dataclasses.fields(engine.Scheme)})


def today() -> dt.date:
    return timezone.localdate()


def _entry(e: Evidence) -> engine.Entry:
    # An expiry counts once the job has written it into the history, so the stored score and
    # the history always agree; until then the entry still counts.
    return engine.Entry(
        id=e.pk,
        kind=e.kind,
        points=e.points,
        starts=e.occurred_on,
        expires=e.expires_on if e.ended_logged else FOREVER,
        veto=e.veto,
        repaired_on=e.repaired_on,
        offsets=e.offsets_id,
    )


def _locked_standing(credit_code: str, *, on: dt.date) -> CreditStanding:
    s = scheme()
    standing, _created = CreditStanding.objects.get_or_create(
        credit_code=credit_code,
        defaults={"score": s.base_score, "level": engine.band(s.base_score, s), "level_since": on},
    )
    return CreditStanding.objects.select_for_update().get(pk=standing.pk)


def _recompute(
    standing: CreditStanding, *, evidence: Evidence, reason: str, rule: str, actor=None, on: dt.date | None = None
) -> ScoreChange | None:
    """Recompute from the evidence, store it, and write the history row (None if nothing moved
    and the row is not the arrival of evidence)."""
    on = on or today()
    entries = [_entry(e) for e in Evidence.objects.filter(credit_code=standing.credit_code)]
    score, level = engine.standing(entries, max(on, today()), scheme())
    delta = score - standing.score
    if delta == 0 and level == standing.level and reason != ScoreChange.Reason.EVIDENCE:
        return None
    before = standing.level
    if level != before:
        standing.level_since = on
    standing.score, standing.level = score, level
    standing.full_clean()
    standing.save(update_fields=["score", "level", "level_since", "updated_at"])
    change = ScoreChange(
        credit_code=standing.credit_code,
        at=timezone.now(),
        reason=reason,
        delta=delta,
        score=score,
        level=level,
        level_before=before,
        rule=rule,
        evidence=evidence,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
    )
    change.full_clean()
    change.save()
    return change


def evidence_record(
    *, credit_code: str, kind: str, source_id: int, rule: CreditRule, occurred_on: dt.date, actor=None, note: str = ""
) -> Evidence:
    """Record one piece of evidence and move the score at once; a second record of the same
    source record is refused (each source counts once)."""
    s = scheme()
    standing = _locked_standing(credit_code, on=today())
    if kind != EvidenceKind.REWARD and Evidence.objects.filter(kind=kind, source_id=source_id).exists():
        raise Conflict(_("该记录已计入信用评价。"), code="evidence_exists", field="source_id")
    expires = engine.add_months(occurred_on, rule.expiry_months)
    evidence = Evidence(
        credit_code=credit_code,
        kind=kind,
        source_id=source_id,
        rule_code=rule.code,
        points=rule.points,
        veto=rule.veto,
        occurred_on=occurred_on,
        expires_on=expires,
        repair_from=engine.add_months(occurred_on, rule.repair_min_months or s.repair_min_months),
        ended_logged=expires <= today(),  # already past its expiry: in the history, never counted
        note=note[:200],
    )
    evidence.full_clean()
    evidence.save()
    _recompute(standing, evidence=evidence, reason=ScoreChange.Reason.EVIDENCE, rule=rule.code, actor=actor)
    return evidence


def rule_for(
    *, kind: str, penalty_kind: str = "", veto_kind: str = "", amount_yuan: Decimal | None = None
) -> CreditRule:
    """The active rule for a piece of evidence (for fines: the highest amount band reached)."""
    rules = CreditRule.objects.filter(active=True, kind=kind)
    if penalty_kind:
        rules = rules.filter(penalty_kind=penalty_kind)
    if veto_kind:
        rules = rules.filter(veto_kind=veto_kind)
    if amount_yuan is not None:
        rules = rules.exclude(amount_min_yuan__gt=amount_yuan)
    rule = rules.order_by("-amount_min_yuan", "code").first()
    if rule is None:
        raise Conflict(_("信用评价规则中没有适用于该记录的规则，请在管理后台配置。"), code="no_rule", field="kind")
    return rule


def _require_supervisor(*, actor, credit_code: str) -> None:
    """City and district supervisors enter decisions for enterprises in their scope; an
    enterprise outside it answers as if it did not exist."""
    area = enterprise_area(credit_code)
    if area is None or not user_scope(actor).contains_area(area):
        raise NotFound(_("企业不存在。"), code="enterprise_not_found", field="credit_code")
    if not (actor.is_superuser or actor.role in SUPERVISOR_ROLES):
        raise Forbidden(_("只有市、区县监管人员可以录入。"), code="not_supervisor")


def _past_or_today(day: dt.date, *, field: str, label: str) -> None:
    if day > today():
        raise InvalidInput(_("%(label)s不能晚于今天。") % {"label": label}, code="in_future", field=field)


@transaction.atomic
def penalty_create(
    *, actor, credit_code: str, decision_number: str, decided_on: dt.date, kind: str, amount_yuan: Decimal
) -> Penalty:
    """行政处罚: store the decision and apply its rule (the score has moved on return)."""
    _require_supervisor(actor=actor, credit_code=credit_code)
    _past_or_today(decided_on, field="decided_on", label=_("决定日期"))
    if Penalty.objects.filter(decision_number=decision_number).exists():
        raise Conflict(_("该处罚决定书文号已录入。"), code="decision_exists", field="decision_number")
    penalty = Penalty(
        credit_code=credit_code,
        decision_number=decision_number,
        decided_on=decided_on,
        kind=kind,
        amount_yuan=amount_yuan,
        entered_by=actor,
    )
    penalty.full_clean()
    penalty.save()
    rule = rule_for(kind=EvidenceKind.PENALTY, penalty_kind=kind, amount_yuan=amount_yuan)
    evidence_record(
        credit_code=credit_code,
        kind=EvidenceKind.PENALTY,
        source_id=penalty.pk,
        rule=rule,
        occurred_on=decided_on,
        actor=actor,
        note=decision_number,
    )
    return penalty


@transaction.atomic
def veto_create(*, actor, credit_code: str, kind: str, found_on: dt.date, reference: str) -> VetoFinding:
    """一票否决: the enterprise is red at once (black stays black)."""
    _require_supervisor(actor=actor, credit_code=credit_code)
    _past_or_today(found_on, field="found_on", label=_("认定日期"))
    if VetoFinding.objects.filter(credit_code=credit_code, kind=kind, reference=reference).exists():
        raise Conflict(_("该一票否决事项已录入。"), code="veto_exists", field="reference")
    finding = VetoFinding(credit_code=credit_code, kind=kind, found_on=found_on, reference=reference, entered_by=actor)
    finding.full_clean()
    finding.save()
    rule = rule_for(kind=EvidenceKind.VETO, veto_kind=kind)
    evidence_record(
        credit_code=credit_code,
        kind=EvidenceKind.VETO,
        source_id=finding.pk,
        rule=rule,
        occurred_on=found_on,
        actor=actor,
        note=reference,
    )
    return finding


@transaction.atomic
def commitment_record(*, actor, credit_code: str, signed_on: dt.date) -> CreditStanding:
    """信用承诺: from this date a clean record earns points back."""
    own = enterprise_for_contact(actor)
    if own != credit_code:
        _require_supervisor(actor=actor, credit_code=credit_code)
    _past_or_today(signed_on, field="signed_on", label=_("承诺日期"))
    standing = _locked_standing(credit_code, on=today())
    standing.commitment_on = signed_on
    standing.full_clean()
    standing.save(update_fields=["commitment_on", "updated_at"])
    return standing


def credit_expire_due(*, on: dt.date | None = None) -> int:
    """Write each deduction (or reward) whose date has come into the history, one transaction per
    enterprise; return how many history rows were written. Idempotent (the periodic job)."""
    on = on or today()
    written = 0
    codes = (
        Evidence.objects.filter(ended_logged=False, expires_on__lte=on)
        .values_list("credit_code", flat=True)
        .distinct()
        .order_by("credit_code")
    )
    for code in list(codes):
        with transaction.atomic():
            standing = _locked_standing(code, on=on)
            due = Evidence.objects.filter(credit_code=code, ended_logged=False, expires_on__lte=on).order_by(
                "expires_on", "id"
            )
            for evidence in due:
                evidence.ended_logged = True
                evidence.save(update_fields=["ended_logged"])
                change = _recompute(
                    standing,
                    evidence=evidence,
                    reason=ScoreChange.Reason.EXPIRY,
                    rule=f"expired:{evidence.rule_code}",
                    on=evidence.expires_on,
                )
                written += change is not None
    return written


def credit_rewards_due(*, on: dt.date | None = None) -> int:
    """守信加分: give points back to enterprises with a commitment and a clean record."""
    on = on or today()
    s = scheme()
    given = 0
    for code in list(CreditStanding.objects.filter(commitment_on__lte=on).values_list("credit_code", flat=True)):
        with transaction.atomic():
            standing = _locked_standing(code, on=on)
            evidence = list(Evidence.objects.filter(credit_code=code))
            target_id = engine.reward_due(
                [_entry(e) for e in evidence], commitment_on=standing.commitment_on, on=on, scheme=s
            )
            if target_id is None:
                continue
            target = next(e for e in evidence if e.pk == target_id)
            offset = sum(r.points for r in evidence if r.offsets_id == target_id and r.repaired_on is None)
            reward = Evidence(
                credit_code=code,
                kind=EvidenceKind.REWARD,
                source_id=target.pk,
                rule_code="reward.clean_record",
                points=min(s.reward_points, -target.points - offset),
                occurred_on=on,
                expires_on=target.expires_on,
                repair_from=target.expires_on,
                offsets=target,
                note=_("信用承诺且 %(months)s 个月无新增扣分") % {"months": s.reward_clean_months},
            )
            reward.full_clean()
            reward.save()
            _recompute(standing, evidence=reward, reason=ScoreChange.Reason.REWARD, rule="reward.clean_record")
            given += 1
    return given


# --- Credit repair (信用修复) -------------------------------------------------------------------


@transaction.atomic
def repair_request_file(
    *, actor, evidence_id: int, statement: str, photo_hashes: list[str] | None = None
) -> RepairRequest:
    """File a repair request: by the enterprise's contact or a supervisor, after the minimum period."""
    evidence = Evidence.objects.select_for_update().filter(pk=evidence_id).first()
    if evidence is None:
        raise NotFound(_("扣分记录不存在。"), code="evidence_not_found", field="evidence")
    if enterprise_for_contact(actor) != evidence.credit_code:
        try:
            _require_supervisor(actor=actor, credit_code=evidence.credit_code)
        except NotFound:
            raise NotFound(_("扣分记录不存在。"), code="evidence_not_found", field="evidence")
    if evidence.points >= 0 and not evidence.veto:
        raise InvalidInput(_("该记录不是扣分记录，无需修复。"), code="not_a_deduction", field="evidence")
    if evidence.repaired_on is not None or (evidence.ended_logged and evidence.expires_on <= today()):
        raise Conflict(_("该扣分记录已不再计分，无需修复。"), code="no_longer_counts", field="evidence")
    if today() < evidence.repair_from:
        raise InvalidInput(
            _("未满最短公示期，%(day)s 起方可申请信用修复。") % {"day": evidence.repair_from.isoformat()},
            code="repair_too_early",
            field="evidence",
        )
    if evidence.repairs.filter(status=RepairRequest.Status.PENDING).exists():
        raise Conflict(_("该扣分记录已有待审核的修复申请。"), code="repair_pending", field="evidence")
    request = RepairRequest(
        evidence=evidence,
        credit_code=evidence.credit_code,
        statement=statement,
        photo_hashes=list(photo_hashes or []),
        filed_by=actor,
        filed_at=timezone.now(),
    )
    request.full_clean()
    request.save()
    return request


@transaction.atomic
def repair_request_decide(*, actor, request_id: int, approve: bool, note: str = "") -> RepairRequest:
    """A district (or city) supervisor approves or refuses; approval stops the deduction
    counting from today, and the history keeps both the deduction and the repair."""
    request = RepairRequest.objects.select_for_update().filter(pk=request_id).first()
    if request is None:
        raise NotFound(_("修复申请不存在。"), code="repair_not_found", field="id")
    try:
        _require_supervisor(actor=actor, credit_code=request.credit_code)
    except NotFound:
        raise NotFound(_("修复申请不存在。"), code="repair_not_found", field="id")
    if request.status != RepairRequest.Status.PENDING:
        raise Conflict(_("该申请已审核。"), code="repair_decided", field="id")
    if not approve and not note.strip():
        raise InvalidInput(_("不予修复须说明理由。"), code="note_required", field="note")
    request.status = RepairRequest.Status.APPROVED if approve else RepairRequest.Status.REFUSED
    request.decided_by, request.decided_at, request.decision_note = actor, timezone.now(), note
    request.full_clean()
    request.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    if approve:
        standing = _locked_standing(request.credit_code, on=today())
        evidence = Evidence.objects.select_for_update().get(pk=request.evidence_id)
        evidence.repaired_on = today()
        evidence.save(update_fields=["repaired_on"])
        Evidence.objects.filter(offsets=evidence).update(repaired_on=today())
        _recompute(
            standing,
            evidence=evidence,
            reason=ScoreChange.Reason.REPAIR,
            rule=f"repaired:{evidence.rule_code}",
            actor=actor,
        )
    return request
