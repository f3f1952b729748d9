"""Accepted cases become credit evidence, in the transaction that accepts them.

A case dispatched to an enterprise's organization and accepted (验收通过) is a violation by that
enterprise, rectified: a `case` (or, for an online-monitoring case, an `exceedance`) piece of
evidence. Cases opened by a 双随机 inspection are the inspections app's (inspections.receivers).
"""

from __future__ import annotations

from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone

from patrol.models import IssueEvent, Source
from sources.selectors import episode_for_issue

from .models import Evidence, EvidenceKind
from .selectors import enterprise_for_organization
from .services import evidence_record, rule_for


@receiver(post_save, sender=IssueEvent, dispatch_uid="credit-accepted-case")
def case_accepted(sender, instance: IssueEvent, created: bool, **kwargs) -> None:
    if not created or instance.action != "accept":
        return
    issue = instance.issue
    if issue.source == Source.INSPECTION:
        return
    code = enterprise_for_organization(issue.responsible_unit_id)
    if code is None:
        return
    kind, source_id = EvidenceKind.CASE, issue.pk
    if issue.source == Source.ONLINE_MONITORING:
        episode = episode_for_issue(issue)
        if episode is None:
            return  # a logger-offline case: a data-quality matter, not a violation
        kind, source_id = EvidenceKind.EXCEEDANCE, episode.pk
    if Evidence.objects.filter(kind=kind, source_id=source_id).exists():
        return  # a case reopened and accepted again counts once
    evidence_record(
        credit_code=code,
        kind=kind,
        source_id=source_id,
        rule=rule_for(kind=kind),
        occurred_on=timezone.localdate(instance.at),
        actor=instance.actor,
        note=f"#{issue.pk} {issue.category_id}",
    )
