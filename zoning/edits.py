"""Edits as the editor makes them: a unit's change with what it does to its neighbours and to the
city's coverage, previewed (dry run) or made, in one transaction.

The control units tile the city, so a planner cannot add a unit beside the others: there is
no "beside". The workflow is **carving**: the planner draws the new unit (or drags a unit's
boundary into its neighbour) and asks for it to be carved out of the units it overlaps. Each
overlapped unit loses the overlap and gets a new version (an update; a delete if nothing of it
remains), the edited unit gets its own, all with the planner's one reason, or nothing at all.

1. **Preview** (`dry_run=True`): everything is done, checked and measured exactly as a save
   would, then rolled back. The answer lists the units that would be carved, with their
   versions, the area each loses, and the gap the edit would open.
2. **Save**: the same call with the versions the preview showed (`base_versions`, code →
   version): a neighbour changed since, or one the preview did not list, is a 409, as for the
   edited unit itself (zoning/services.py).

Every edit also measures the **gap** it opens in the city's coverage (zoning/coverage.py): the
part of the units' former shapes that no unit covers after it (a hole cut, a boundary pulled
back, a unit deleted). A gap is allowed (a new unit may be drawn in it next), but the preview
and the answer name its area, and the editor warns before the save.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from django.contrib.gis.geos import GEOSGeometry
from django.db import transaction
from django.utils.translation import gettext as _

from gridgov.errors import Conflict

from . import coverage, services
from .models import ControlUnit
from .services import Actor

# The reason a preview records, rolled back with it, when the planner has not written one yet.
PREVIEW_REASON = "（预览）"


def _reason(reason: str, *, dry_run: bool) -> str:
    return services.require_reason(reason) if not dry_run or (reason or "").strip() else PREVIEW_REASON


@dataclass(frozen=True)
class CarvedUnit:
    """A neighbour the edit carved: its version before and after, the area it lost."""

    code: str
    name: str
    base_version: int
    version: int
    area_taken_m2: float
    deleted: bool


@dataclass
class EditOutcome:
    dry_run: bool
    code: str
    version: int  # the edited unit's new version (its delete version for a delete)
    unit: ControlUnit | None  # None after a delete
    carved: list[CarvedUnit] = field(default_factory=list)
    gap: coverage.Gap = coverage.NO_GAP


def _finish(outcome: EditOutcome, *, before: list[GEOSGeometry]) -> EditOutcome:
    outcome.gap = coverage.uncovered(before)
    if outcome.dry_run:
        transaction.set_rollback(True)  # a preview: everything above is undone
    return outcome


def _carve(
    shape: GEOSGeometry,
    *,
    code: str,
    base_versions: Mapping[str, int] | None,
    reason: str,
    actor: Actor,
    dry_run: bool,
) -> tuple[list[CarvedUnit], list[GEOSGeometry]]:
    """Carve `shape` out of the units it overlaps (other than `code`); their former shapes."""
    plan = coverage.carve_plan(shape, exclude_code=code, lock=True)
    if not dry_run:
        seen = base_versions or {}
        unseen = [c.code for c in plan if c.code not in seen]
        if unseen:
            raise Conflict(
                _("新范围还与 %(codes)s 重叠，预览中没有列出；请重新预览后再保存。") % {"codes": "、".join(unseen)},
                code="carve_changed",
                field="base_versions",
                extra={"units": unseen},
            )
    before = list(
        ControlUnit.objects.filter(code__in=[c.code for c in plan]).order_by("code").values_list("geom", flat=True)
    )
    carved = []
    for c in plan:
        base = c.version if dry_run else (base_versions or {})[c.code]
        if c.remainder is None:
            row = services.unit_delete(code=c.code, base_version=base, reason=reason, actor=actor)
            version, deleted = row.version, True
        else:
            unit = services.unit_update(code=c.code, base_version=base, geom=c.remainder, reason=reason, actor=actor)
            version, deleted = unit.version, False
        carved.append(CarvedUnit(c.code, c.name, base, version, c.area_taken_m2, deleted))
    return carved, before


@transaction.atomic
def unit_create_edit(
    *,
    code: str,
    name: str,
    category: str,
    geom: GEOSGeometry,
    reason: str,
    actor: Actor,
    access_list: list[dict] | None = None,
    carve: bool = False,
    base_versions: Mapping[str, int] | None = None,
    dry_run: bool = False,
) -> EditOutcome:
    """Create a unit (`services.unit_create`), carving it out of the units it overlaps if asked."""
    services.require_editor(actor)
    reason = _reason(reason, dry_run=dry_run)
    carved, before = [], []
    if carve:
        carved, before = _carve(
            geom, code=code, base_versions=base_versions, reason=reason, actor=actor, dry_run=dry_run
        )
    unit = services.unit_create(
        code=code, name=name, category=category, geom=geom, access_list=access_list, reason=reason, actor=actor
    )
    return _finish(EditOutcome(dry_run, code, unit.version, unit, carved), before=before)


@transaction.atomic
def unit_update_edit(
    *,
    code: str,
    base_version: int | None,
    reason: str,
    actor: Actor,
    name: str | None = None,
    category: str | None = None,
    geom: GEOSGeometry | None = None,
    access_list: list[dict] | None = None,
    carve: bool = False,
    base_versions: Mapping[str, int] | None = None,
    dry_run: bool = False,
) -> EditOutcome:
    """Update a unit (`services.unit_update`); a new shape may be carved out of its neighbours."""
    services.require_editor(actor)
    reason = _reason(reason, dry_run=dry_run)
    before = list(ControlUnit.objects.filter(code=code).values_list("geom", flat=True)) if geom is not None else []
    carved = []
    if geom is not None and carve:
        carved, neighbours = _carve(
            geom, code=code, base_versions=base_versions, reason=reason, actor=actor, dry_run=dry_run
        )
        before += neighbours
    unit = services.unit_update(
        code=code,
        base_version=base_version,
        reason=reason,
        actor=actor,
        name=name,
        category=category,
        geom=geom,
        access_list=access_list,
    )
    return _finish(EditOutcome(dry_run, code, unit.version, unit, carved), before=before)


@transaction.atomic
def unit_delete_edit(
    *, code: str, base_version: int | None, reason: str, actor: Actor, dry_run: bool = False
) -> EditOutcome:
    """Delete a unit (`services.unit_delete`): its whole shape is the gap, unless something covers it."""
    services.require_editor(actor)
    reason = _reason(reason, dry_run=dry_run)
    before = list(ControlUnit.objects.filter(code=code).values_list("geom", flat=True))
    row = services.unit_delete(code=code, base_version=base_version, reason=reason, actor=actor)
    return _finish(EditOutcome(dry_run, code, row.version, None), before=before)


@transaction.atomic
def unit_revert_edit(
    *, code: str, to_version: int, base_version: int | None, reason: str, actor: Actor, dry_run: bool = False
) -> EditOutcome:
    """Revert a unit (`services.unit_revert`): the shape it gives up may open a gap."""
    services.require_editor(actor)
    reason = _reason(reason, dry_run=dry_run)
    before = list(ControlUnit.objects.filter(code=code).values_list("geom", flat=True))  # none if deleted
    unit = services.unit_revert(code=code, to_version=to_version, base_version=base_version, reason=reason, actor=actor)
    return _finish(EditOutcome(dry_run, code, unit.version, unit), before=before)
