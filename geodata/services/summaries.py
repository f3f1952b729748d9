"""Per-grid-cell figures of a job: changed area by type, valid area, candidate count."""

from __future__ import annotations

import shapely

from geodata.models import DetectionJob, GridCellSummary
from geodata.raster import summarize_by_zones
from geodata.raster.types import ZoneSummary
from gridgov.models import GridCell


def _cells_over(job: DetectionJob) -> list[GridCell]:
    overlap = job.before.footprint.intersection(job.after.footprint)
    return list(GridCell.objects.filter(geom__intersects=overlap).only("id", "code", "geom"))


def cell_summaries(job: DetectionJob, raster_path: str) -> list[tuple[int, ZoneSummary]]:
    """(cell id, zonal summary of the change raster) for every cell over the pair's overlap."""
    cells = _cells_over(job)
    if not cells:
        return []
    zones = [(c.pk, shapely.from_wkb(bytes(c.geom.wkb))) for c in cells]
    return [(z.zone_id, z) for z in summarize_by_zones(raster_path, zones)]


def summaries_store(job: DetectionJob, summaries: list[tuple[int, ZoneSummary]], counts: dict[int, int]) -> None:
    """Replace the job's per-cell rows (inside the caller's transaction); ``counts``: the
    candidates whose largest overlap is each cell."""
    GridCellSummary.objects.filter(job=job).delete()
    GridCellSummary.objects.bulk_create(
        [
            GridCellSummary(
                job=job,
                cell_id=cell_id,
                vegetation_loss_m2=s.changed_area_m2.get("vegetation_loss", 0.0),
                construction_m2=s.changed_area_m2.get("construction", 0.0),
                water_change_m2=s.changed_area_m2.get("water_change", 0.0),
                valid_area_m2=s.valid_area_m2,
                candidate_count=counts.get(cell_id, 0),
            )
            for cell_id, s in summaries
        ],
        batch_size=1000,
    )
