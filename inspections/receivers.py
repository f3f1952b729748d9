"""A problem found by a 双随机 inspection is credit evidence once its case is accepted."""

from __future__ import annotations

from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone

from credit.models import Evidence, EvidenceKind
from credit.services import evidence_record, rule_for
from patrol.models import IssueEvent

from .models import InspectionResult


@receiver(post_save, sender=IssueEvent, dispatch_uid="inspections-accepted-case")
def inspection_case_accepted(sender, instance: IssueEvent, created: bool, **kwargs) -> None:
    if not created or instance.action != "accept":
        return
    result = InspectionResult.objects.filter(issue_id=instance.issue_id).select_related("inspection").first()
    if result is None:
        return
    inspection = result.inspection
    if Evidence.objects.filter(kind=EvidenceKind.INSPECTION, source_id=inspection.pk).exists():
        return
    evidence_record(
        credit_code=inspection.credit_code,
        kind=EvidenceKind.INSPECTION,
        source_id=inspection.pk,
        rule=rule_for(kind=EvidenceKind.INSPECTION),
        occurred_on=timezone.localdate(instance.at),
        actor=instance.actor,
        note=inspection.code,
    )
