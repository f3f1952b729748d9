"""What the public (and the officer's phone) is shown of a plan and its inspections.

The public JSON of a plan (`plan_public_body`) is the input of `scripts/verify_draw.py`: the
commitment (seed_sha256, inputs_sha256, algorithm) from the commit on; each inspection once its
result is recorded (by the inspectors' display names and keys, never usernames); the seed, the
frozen inputs and the whole list once the draw is public (`selectors.draw_public`).
"""

from __future__ import annotations

import segno
from django.urls import reverse
from django.utils import timezone

from .models import Inspection, Plan, PlanStatus
from .selectors import draw_public, enterprises_by_code


def _iso(value) -> str | None:
    return timezone.localtime(value).isoformat() if value else None


def verify_url(request, code: str) -> str:
    path = reverse("public-inspection-code", args=[code])
    return request.build_absolute_uri(path) if request is not None else path


def inspection_public(inspection: Inspection, enterprise, request) -> dict:
    team = list(inspection.team.all())
    return {
        "position": inspection.position,
        "pool": inspection.pool,
        "credit_code": inspection.credit_code,
        "name": enterprise.name if enterprise else "",
        "code": inspection.code,
        "inspectors": [m.user.display_name for m in team],
        "inspector_keys": [m.key for m in team],
        "outcome": inspection.outcome or None,
        "done_at": _iso(inspection.done_at),
        "verify_url": verify_url(request, inspection.code),
    }


def plan_public_body(plan: Plan, request=None) -> dict:
    public = draw_public(plan)
    inspections = None
    if plan.status == PlanStatus.DRAWN:
        qs = plan.inspections.prefetch_related("team__user").order_by("position")
        shown = [i for i in qs if public or i.done_at is not None]
        names = enterprises_by_code(i.credit_code for i in shown)
        inspections = [inspection_public(i, names.get(i.credit_code), request) for i in shown]
    return {
        "id": plan.pk,
        "name": plan.name,
        "period_start": plan.period_start.isoformat(),
        "period_end": plan.period_end.isoformat(),
        "scope": [{"code": a.code, "name": a.name} for a in plan.scope.all().only("code", "name")],
        "per_inspection": plan.per_inspection,
        "status": plan.status,
        "algorithm": plan.algorithm,
        "seed_sha256": plan.seed_sha256,
        "inputs_sha256": plan.inputs_sha256,
        "committed_at": _iso(plan.committed_at),
        "drawn_at": _iso(plan.drawn_at),
        "publish_deadline": plan.publish_deadline.isoformat(),
        "published": public,
        "seed": plan.seed if public else None,
        "inputs": plan.inputs if public else None,
        "inspections": inspections,
        "synthetic": plan.synthetic,
    }


def task_feature(inspection: Inspection, enterprise, request) -> dict:
    """One inspection task as a GeoJSON feature for the phone: where, what permit, with whom."""
    point = enterprise.point if enterprise is not None else None
    permit = enterprise_permit(enterprise)
    return {
        "type": "Feature",
        "id": inspection.pk,
        "geometry": {"type": "Point", "coordinates": [round(point.x, 7), round(point.y, 7)]} if point else None,
        "properties": {
            "id": inspection.pk,
            "kind": "inspection",
            "code": inspection.code,
            "plan": inspection.plan_id,
            "plan_name": inspection.plan.name,
            "deadline": inspection.plan.period_end.isoformat(),
            "credit_code": inspection.credit_code,
            "name": enterprise.name if enterprise else "",
            "management_class": enterprise.management_class if enterprise else None,
            "permit": permit,
            "inspectors": [m.user.display_name for m in inspection.team.all()],
            "verify_url": verify_url(request, inspection.code),
            "qr_url": reverse("public-inspection-code-qr", args=[inspection.code]),
        },
    }


def enterprise_permit(enterprise) -> dict | None:
    """The enterprise's discharge permit (number and validity), if it has one (read with the
    enterprise: `enterprises_by_code` selects it)."""
    permit = getattr(enterprise, "permit", None) if enterprise is not None else None
    if permit is None:
        return None
    return {
        "number": permit.number,
        "valid_from": permit.valid_from.isoformat(),
        "valid_to": permit.valid_to.isoformat(),
    }


def qr_svg(text: str) -> str:
    """An SVG QR code (segno, generated here: no external service)."""
    return segno.make(text, error="m").svg_inline(scale=4, border=2)
