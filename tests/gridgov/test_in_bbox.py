"""`in_bbox` selects by shape, not by bounding box (`&&` then ST_Intersects)."""

import pytest
from django.contrib.gis.geos import MultiPolygon, Polygon

from gridgov.models import AdminArea, GridCell

pytestmark = pytest.mark.django_db

# An L of 0.02° × 0.02° far from the demo (lon 100, lat 10): its notch, the north-east quarter,
# lies inside its bounding box but outside its shape.
X, Y, D = 100.0, 10.0, 0.01
L_SHAPE = MultiPolygon(
    Polygon(((X, Y), (X + 2 * D, Y), (X + 2 * D, Y + D), (X + D, Y + D), (X + D, Y + 2 * D), (X, Y + 2 * D), (X, Y))),
    srid=4326,
)
IN_NOTCH = (X + 1.2 * D, Y + 1.2 * D, X + 1.8 * D, Y + 1.8 * D)
ON_ARM = (X + 1.2 * D, Y + 0.2 * D, X + 1.8 * D, Y + 0.8 * D)


@pytest.fixture
def l_areas():
    district = AdminArea.objects.get(code="330106")
    township = AdminArea.objects.create(
        level="township", code="330106999", name="L 形（测试）", parent=district, geom=L_SHAPE
    )
    cell = GridCell.objects.create(code="33010699900101", township=township, geom=L_SHAPE)
    return township, cell


def test_the_notch_box_overlaps_the_bounding_box_only(l_areas):
    township, cell = l_areas
    # The old lookup (box against box) took the L for a neighbour of the notch:
    assert AdminArea.objects.filter(geom__bboverlaps=Polygon.from_bbox(IN_NOTCH)).filter(pk=township.pk).exists()
    assert not AdminArea.objects.in_bbox(IN_NOTCH).filter(pk=township.pk).exists()
    assert not GridCell.objects.in_bbox(IN_NOTCH).filter(pk=cell.pk).exists()


def test_a_box_on_the_shape_is_found(l_areas):
    township, cell = l_areas
    assert list(AdminArea.objects.in_bbox(ON_ARM)) == [township]
    assert list(GridCell.objects.in_bbox(Polygon.from_bbox(ON_ARM))) == [cell]
