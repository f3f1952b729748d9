"""Notes from systems that keep watching a case (online monitoring, quality stations).

Moved here from the sources branch's addition to the former `patrol/services.py` when
`sources` was merged onto the split `patrol.actions` (merge resolution, unchanged logic).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gridgov.errors import Conflict, InvalidInput
from gridgov.models import Organization

from ..models import Issue, IssueEvent, Status
from .transitions import _locked, _note


@transaction.atomic
def issue_note(
    *, issue_id: int, note: str, actor=None, data: dict | None = None, responsible_unit_id: int | None = None
) -> Issue:
    """Add a note to a case without moving it (action "note", same status before and after),
    e.g. further exceeded hours of an online-monitoring episode. `responsible_unit_id` names the
    responsible unit while the case is not yet dispatched (the polluting enterprise)."""
    issue = _locked(issue_id)
    note = _note(note)
    if not note:
        raise InvalidInput(_("请填写说明。"), code="note_required", field="note")
    fields = ["updated_at"]
    if responsible_unit_id is not None and responsible_unit_id != issue.responsible_unit_id:
        if issue.status not in (Status.REPORTED, Status.VERIFIED):
            raise Conflict(_("案件已交办，不能再改变责任单位。"), code="already_dispatched", field="unit")
        if not Organization.objects.filter(pk=responsible_unit_id).exists():
            raise InvalidInput(_("责任单位不存在。"), code="unit_not_found", field="unit")
        issue.responsible_unit_id = responsible_unit_id
        fields.append("responsible_unit")
    issue.save(update_fields=fields)
    IssueEvent.objects.create(
        issue=issue,
        action="note",
        from_status=issue.status,
        to_status=issue.status,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        at=timezone.now(),
        note=note,
        data=data or {},
    )
    return issue
