"""The grid core's models and the demo data they hold."""

import pytest
from django.contrib.gis.geos import MultiPolygon, Polygon
from django.db import IntegrityError, connection, transaction

from gridgov.models import AdminArea, GridAssignment, GridCell, GridCellPart

pytestmark = pytest.mark.django_db

HANGZHOU_DISTRICTS = {
    "330102",
    "330105",
    "330106",
    "330108",
    "330109",
    "330110",
    "330111",
    "330112",
    "330113",
    "330114",
    "330122",
    "330127",
    "330182",
}


def square(x, y, d=0.001):
    return MultiPolygon(Polygon(((x, y), (x + d, y), (x + d, y + d), (x, y + d), (x, y))), srid=4326)


def test_demo_has_city_and_13_real_districts():
    city = AdminArea.objects.get(level="city")
    assert (city.code, city.name, city.synthetic) == ("330100", "杭州市", False)
    districts = AdminArea.objects.filter(level="district")
    assert set(districts.values_list("code", flat=True)) == HANGZHOU_DISTRICTS
    assert not districts.filter(synthetic=True).exists()
    assert set(districts.values_list("parent__code", flat=True)) == {"330100"}


def test_demo_townships_and_cells_are_synthetic_and_coded_by_parent():
    townships = AdminArea.objects.filter(level="township")
    assert 180 <= townships.count() <= 230
    assert not townships.filter(synthetic=False).exists()
    for t in townships.select_related("parent")[:50]:
        assert t.code.startswith(t.parent.code) and len(t.code) == 9
    cells = GridCell.objects.select_related("township")
    assert 4500 <= cells.count() <= 5500
    assert not cells.filter(synthetic=False).exists()
    for c in cells[:200]:
        assert c.code.startswith(c.township.code) and len(c.code) == 14


def test_cells_tile_their_district_without_overlap():
    # Voronoi pieces clipped to the parent: total area equals the district's, within 0.1 %.
    with connection.cursor() as cur:
        cur.execute(
            """SELECT ST_Area(d.geom::geography), sum(ST_Area(c.geom::geography))
                 FROM gridgov_adminarea d
                 JOIN gridgov_adminarea t ON t.parent_id = d.id
                 JOIN gridgov_gridcell c ON c.township_id = t.id
                WHERE d.code = '330106' GROUP BY d.id"""
        )
        district_area, cells_area = cur.fetchone()
    assert cells_area == pytest.approx(district_area, rel=1e-3)


def test_every_cell_has_one_leader_and_two_officers():
    with connection.cursor() as cur:
        cur.execute(
            """SELECT count(*) FROM gridgov_gridcell c WHERE
                 (SELECT count(*) FROM gridgov_gridassignment a WHERE a.cell_id = c.id AND a.duty = 'leader') <> 1
              OR (SELECT count(*) FROM gridgov_gridassignment a WHERE a.cell_id = c.id AND a.duty = 'officer') < 2"""
        )
        assert cur.fetchone()[0] == 0


def test_subdivided_parts_cover_every_cell():
    assert GridCellPart.objects.values("cell").distinct().count() == GridCell.objects.count()


def test_second_leader_for_a_cell_is_refused_by_the_database():
    cell = GridCell.objects.first()
    other = GridAssignment.objects.exclude(cell=cell).filter(duty="leader").first().user
    with pytest.raises(IntegrityError), transaction.atomic():
        GridAssignment.objects.create(cell=cell, user=other, duty="leader")


@pytest.mark.parametrize(
    "level,code",
    [("township", "330106"), ("district", "33010600"), ("district", "33o106"), ("city", "1234567")],
)
def test_area_code_must_match_level(level, code):
    parent = AdminArea.objects.get(code="330100")
    with pytest.raises(IntegrityError), transaction.atomic():
        AdminArea.objects.create(level=level, code=code, name="x", parent=parent, geom=square(120, 30))


def test_grid_cell_code_must_be_14_digits():
    township = AdminArea.objects.filter(level="township").first()
    with pytest.raises(IntegrityError), transaction.atomic():
        GridCell.objects.create(code="3301060010011", township=township, geom=square(120, 30))
