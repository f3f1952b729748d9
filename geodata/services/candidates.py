"""A job's candidates: flagged against the zoning rules, placed in their grid cell, and stored
in one transaction that replaces the pair's unreviewed candidates and keeps reviewed ones."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import shapely
from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from geodata.models import CandidateStatus, ChangeCandidate, ChangeType, DetectionJob, JobStatus
from geodata.raster import DetectionCancelled
from geodata.raster.types import ChangeRecord, ZoneSummary
from zoning import rules
from zoning.models import ControlUnit, Layer
from zoning.selectors import ZoneHit, zones_intersecting

from .summaries import summaries_store

SRID = settings.GRIDGOV_SRID
#: Fields a candidate's full_clean() skips: foreign keys come from rows just read, and a
#: query per key per candidate would dominate the store of a large scene.
_FK_FIELDS = ["job", "grid_cell", "township", "district", "issue", "reviewed_by"]


@dataclass
class Flag:
    violation: bool
    reason: str


def violation_for(change_type: str, hits: Sequence[ZoneHit], access_lists: Mapping[str, list]) -> Flag:
    """Flag a change (zoning.rules): inside the red line, inside a priority-protection unit,
    or construction in a unit whose access list forbids building."""
    reasons = []
    red = [h.code for h in hits if rules.is_red_line(h)]
    if red:
        reasons.append(_("位于生态保护红线内（%(codes)s）") % {"codes": "、".join(red)})
    priority = [h.code for h in hits if rules.is_priority_unit(h)]
    if priority:
        reasons.append(_("位于优先保护单元内（%(codes)s）") % {"codes": "、".join(priority)})
    if change_type == ChangeType.CONSTRUCTION:
        for h in hits:
            bans = rules.construction_bans(access_lists.get(h.code)) if h.layer == Layer.CONTROL_UNIT else []
            if bans:
                ban = {"code": h.code, "item": bans[0][:60]}
                reasons.append(_("新增建设位于准入清单禁止建设的单元 %(code)s（%(item)s）") % ban)
    return Flag(bool(reasons), "；".join(reasons))


# Raw SQL: the cell each candidate overlaps most, for all candidates in one round trip
# (DISTINCT ON picks the largest intersection per candidate; ties go to the lowest code).
_CELL_SQL = """
    WITH cand AS (
        SELECT ord, ST_GeomFromWKB(wkb, %s) AS g FROM unnest(%s::bytea[]) WITH ORDINALITY AS u(wkb, ord)
    )
    SELECT DISTINCT ON (cand.ord) cand.ord, c.id, c.township_id, t.parent_id
      FROM cand
      JOIN gridgov_gridcell c ON ST_Intersects(c.geom, cand.g)
      JOIN gridgov_adminarea t ON t.id = c.township_id
     ORDER BY cand.ord, ST_Area(ST_Intersection(c.geom, cand.g)) DESC, c.code
"""


def _cells_for(geoms: list[MultiPolygon]) -> dict[int, tuple[int, int, int]]:
    if not geoms:
        return {}
    with connection.cursor() as cur:
        cur.execute(_CELL_SQL, [SRID, [bytes(g.wkb) for g in geoms]])
        return {int(ord_) - 1: (cell, town, dist) for ord_, cell, town, dist in cur.fetchall()}


def _geos_multipolygon(geom) -> MultiPolygon:
    g = shapely.make_valid(geom) if not geom.is_valid else geom
    polys = [p for p in getattr(g, "geoms", [g]) if p.geom_type == "Polygon"]
    polys += [q for p in getattr(g, "geoms", []) if p.geom_type == "MultiPolygon" for q in p.geoms]
    return GEOSGeometry(memoryview(shapely.MultiPolygon(polys).wkb), srid=SRID)


def _iou(a: GEOSGeometry, b: GEOSGeometry) -> float:
    inter = a.intersection(b).area
    union = a.union(b).area
    return inter / union if union > 0 else 0.0


def _candidate_fields(job, rec: ChangeRecord, geom, place, hits: list[ZoneHit], access: dict) -> dict:
    cell, town, dist = place
    flag = violation_for(rec.change_type, hits, access)
    return dict(
        job=job,
        geom=geom,
        change_type=rec.change_type,
        area_m2=float(rec.area_m2),
        confidence=float(min(1.0, max(0.0, rec.confidence))),
        mean_index_change=float(rec.mean_index_change),
        index=rec.index or "",
        pixel_count=int(rec.pixel_count),
        grid_cell_id=cell,
        township_id=town,
        district_id=dist,
        zones=[dataclasses.asdict(h) for h in hits],
        violation=flag.violation,
        violation_reason=flag.reason[:1000],
    )


@transaction.atomic
def job_store(
    job: DetectionJob,
    records: list[ChangeRecord],
    summaries: list[tuple[int, ZoneSummary]],
    *,
    notes: list[str],
    raster_path: Path,
) -> None:
    """Replace the pair's candidates by this run's, in one transaction, and mark the job done.

    Unreviewed candidates of earlier runs of the same pair are deleted; a reviewed one that a
    new polygon matches (same type, IoU >= 0.5) moves to this job with its decision and case,
    so a re-run never duplicates what a reviewer has already decided."""
    locked = DetectionJob.objects.select_for_update().get(pk=job.pk)
    if locked.cancel_requested:
        raise DetectionCancelled(job.before.path, "cancelled")
    pair_jobs = DetectionJob.objects.filter(before=job.before, after=job.after).exclude(pk=job.pk)
    ChangeCandidate.objects.filter(job__in=pair_jobs, status=CandidateStatus.NEW).delete()
    reviewed = list(ChangeCandidate.objects.filter(job__in=pair_jobs).exclude(status=CandidateStatus.NEW))

    geoms = [_geos_multipolygon(r.geometry) for r in records]
    cells = _cells_for(geoms)
    hits_by_i = [zones_intersecting(g) for g in geoms]
    unit_codes = {h.code for hits in hits_by_i for h in hits if h.layer == Layer.CONTROL_UNIT}
    access = dict(ControlUnit.objects.filter(code__in=unit_codes).values_list("code", "access_list"))

    new: list[ChangeCandidate] = []
    for i, (rec, g) in enumerate(zip(records, geoms, strict=True)):
        fields = _candidate_fields(job, rec, g, cells.get(i, (None, None, None)), hits_by_i[i], access)
        same = (c for c in reviewed if c.change_type == rec.change_type and c.geom.intersects(g))
        match = next((c for c in same if _iou(c.geom, g) >= 0.5), None)
        if match is not None:
            reviewed.remove(match)
            for k, v in fields.items():
                setattr(match, k, v)
            match.full_clean(exclude=_FK_FIELDS)
            match.save()
            continue
        cand = ChangeCandidate(**fields)
        cand.full_clean(exclude=_FK_FIELDS, validate_constraints=False)
        new.append(cand)
    ChangeCandidate.objects.bulk_create(new, batch_size=500)

    counts: dict[int, int] = {}
    for cid, _t, _d in cells.values():
        counts[cid] = counts.get(cid, 0) + 1
    summaries_store(job, summaries, counts)
    total = ChangeCandidate.objects.filter(job=job).count()
    for other in pair_jobs:  # an earlier run of the pair: its candidates moved here or are gone
        left = other.candidates.count()
        if left != other.candidate_count:
            DetectionJob.objects.filter(pk=other.pk).update(
                candidate_count=left,
                message=_("已由任务 #%(id)s 重新检测，图斑已转入该任务（本任务剩余 %(n)s 个）")
                % {"id": job.pk, "n": left},
            )
    locked.status = JobStatus.DONE
    locked.progress = 1.0
    locked.candidate_count = total
    locked.finished_at = timezone.now()
    locked.change_raster_path = str(raster_path)
    locked.notes = list(notes)
    n_viol = ChangeCandidate.objects.filter(job=job, violation=True).count()
    locked.message = _("完成：%(total)s 个变化图斑，其中疑似违规 %(viol)s 个") % {"total": total, "viol": n_viol}
    locked.save(
        update_fields=["status", "progress", "candidate_count", "finished_at", "change_raster_path", "notes", "message"]
    )
