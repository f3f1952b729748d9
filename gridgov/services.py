"""Writes of the grid core: each a typed function, one transaction, validated before save."""

from __future__ import annotations

from django.contrib.gis.geos import GEOSGeometry, MultiPolygon
from django.db import connection, transaction
from django.utils.translation import gettext as _

from .errors import InvalidInput
from .models import AdminArea, GridCell, GridCellPart

SUBDIVIDE_MAX_VERTICES = 64


def as_multipolygon(geom: GEOSGeometry, *, field: str = "geom") -> MultiPolygon:
    """A polygon or multipolygon as a multipolygon; anything else is refused."""
    if geom.geom_type == "Polygon":
        return MultiPolygon(geom, srid=geom.srid)
    if geom.geom_type != "MultiPolygon":
        raise InvalidInput(_("边界应为面（多边形）。"), code="not_a_polygon", field=field)
    return geom


def grid_cells_subdivide(*, cell_ids: list[int] | None = None) -> int:
    """Rebuild the subdivided parts of the given cells (all when None); return the part count."""
    with transaction.atomic(), connection.cursor() as cursor:
        if cell_ids is None:
            cursor.execute("TRUNCATE gridgov_gridcellpart")
            where, params = "", []
        else:
            GridCellPart.objects.filter(cell_id__in=cell_ids).delete()
            where, params = "WHERE c.id = ANY(%s)", [list(cell_ids)]
        # ST_Subdivide keeps each part under a vertex budget, so ST_Covers stays cheap and the
        # GiST index boxes stay tight (MapIt's GeometrySubdivided).
        cursor.execute(
            f"""INSERT INTO gridgov_gridcellpart
                       (cell_id, geom, cell_code, township_code, township_name, district_code, district_name)
                SELECT c.id, ST_Subdivide(c.geom, {SUBDIVIDE_MAX_VERTICES}), c.code, t.code, t.name, d.code, d.name
                  FROM gridgov_gridcell c
                  JOIN gridgov_adminarea t ON t.id = c.township_id
                  JOIN gridgov_adminarea d ON d.id = t.parent_id {where}""",
            params,
        )
        return cursor.rowcount


@transaction.atomic
def grid_cell_save(*, cell: GridCell) -> GridCell:
    """Validate and save a grid cell, keeping its subdivided parts in step."""
    cell.geom = as_multipolygon(cell.geom)
    cell.full_clean()
    cell.save()
    grid_cells_subdivide(cell_ids=[cell.pk])
    return cell


@transaction.atomic
def admin_area_save(*, area: AdminArea) -> AdminArea:
    area.geom = as_multipolygon(area.geom)
    area.full_clean()
    area.save()
    # Keep the names copied into the lookup table in step.
    if area.level == "township":
        GridCellPart.objects.filter(cell__township=area).update(township_code=area.code, township_name=area.name)
    elif area.level == "district":
        GridCellPart.objects.filter(cell__township__parent=area).update(
            district_code=area.code, district_name=area.name
        )
    return area
