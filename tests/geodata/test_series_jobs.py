"""`manage.py detect_changes --series` on the real PostGIS: three GF-2 dates over West Lake."""

from __future__ import annotations

import json
from io import StringIO

import pytest
import rasterio
from django.core.management import CommandError, call_command

from geodata.demo import XIHU_BOUNDS
from geodata.models import ChangeCandidate, DetectionJob, JobStatus, Scene
from geodata.raster.series import HIGH
from geodata.raster.synth import default_transform

from .conftest import field, paint, write_scene

pytestmark = pytest.mark.django_db
T = default_transform(256, 256, 4.0, XIHU_BOUNDS, "EPSG:32651")


def _dated(path, refl, day):
    write_scene(path, refl, transform=T)
    with rasterio.open(path, "r+") as ds:
        ds.update_tags(ACQUISITION_DATE=day, GRIDGOV_SENSOR="gf2")
    return str(path)


@pytest.fixture
def series(tmp_path):
    base = field("vegetation", 256, 256, seed=1)
    d1 = paint(field("vegetation", 256, 256, seed=2), "soil", 40, 40, 80, 90)
    d2 = paint(field("vegetation", 256, 256, seed=3), "soil", 40, 40, 80, 90)
    return [
        _dated(tmp_path / "t0.tif", base, "2024-03-01"),
        _dated(tmp_path / "t1.tif", d1, "2024-06-01"),
        _dated(tmp_path / "t2.tif", d2, "2024-09-01"),
    ]


def test_cli_series_writes_confidence_and_first_seen(series, tmp_path):
    out = tmp_path / "series.geojson"
    call_command("detect_changes", series=series, output=str(out), stdout=StringIO())
    fc = json.loads(out.read_text())
    assert len(fc["features"]) == 1
    props = fc["features"][0]["properties"]
    assert props["first_seen"] == "2024-06-01" and props["confidence"] >= HIGH
    assert props["change_type"] == "vegetation_loss" and props["area_m2"] == pytest.approx(40 * 50 * 16, rel=0.02)
    job = DetectionJob.objects.get(pk=props["job"])
    assert job.status == JobStatus.DONE and job.before.path == series[0] and job.after.path == series[2]
    assert ChangeCandidate.objects.filter(job=job).count() == 1


def test_cli_series_out_of_order_names_the_file(series):
    jobs, scenes = DetectionJob.objects.count(), Scene.objects.count()
    with pytest.raises(CommandError, match=r"t1\.tif.*2024-06-01.*2024-09-01") as e:
        call_command("detect_changes", series=[series[0], series[2], series[1]], stdout=StringIO())
    assert "[series_order]" in str(e.value)
    assert (DetectionJob.objects.count(), Scene.objects.count()) == (jobs, scenes)  # nothing half-saved
