"""Scene registration reads the product in the limited child of gridgov.untrusted, with the
raster drivers only (issue 13: uploads are opened only as what they claim to be)."""

import datetime as dt

import pytest
from django.utils import translation

from geodata import scene_read, services
from geodata.services import scenes
from gridgov import untrusted
from gridgov.errors import InvalidInput, PayloadTooLarge

from . import sandbox_probe
from .products_factory import make_safe

pytestmark = pytest.mark.django_db
D23 = dt.date(2023, 8, 15)


def test_the_child_keeps_only_the_raster_drivers(tmp_path):
    safe = make_safe(tmp_path / "s", D23)  # JPEG 2000 bands: the read uses rasterio's GDAL
    kind, libraries = untrusted.run_isolated(
        sandbox_probe.drivers_after_reading, str(safe), limits=untrusted.Limits(gdal_drivers=scene_read.DRIVERS)
    )
    assert kind == "safe"
    assert libraries and all(set(names) <= {"GTiff", "JP2OpenJPEG"} for names in libraries), libraries
    assert ["GTiff", "JP2OpenJPEG"] in [sorted(names) for names in libraries]  # rasterio's, after its reads


def test_a_refusal_in_the_child_keeps_its_code_and_names_the_file(tmp_path):
    bad = tmp_path / "garbage_20240101.tif"
    bad.write_bytes(b"II*\x00" + b"\x00" * 100)  # a TIFF signature, no image file directory
    with translation.override("zh-hans"), pytest.raises(InvalidInput) as e:
        services.scene_register(path=bad, sensor="gf2")
    assert (e.value.code, e.value.field) == ("bad_scene", "path")
    assert e.value.message.startswith("影像 garbage_20240101.tif 无法使用：不是可读取的 GTiff 栅格")
    assert str(tmp_path) not in e.value.message


def test_a_child_past_its_time_is_an_error_naming_the_file(tmp_path, monkeypatch):
    safe = make_safe(tmp_path / "s", D23)
    monkeypatch.setattr(scenes, "READ_TIMEOUT_S", 0.001)  # no child starts and reads in 1 ms
    with translation.override("zh-hans"), pytest.raises(PayloadTooLarge) as e:
        services.scene_register(path=safe, sensor=None)
    assert (e.value.code, e.value.field) == ("read_timeout", "path")
    assert e.value.message == f"读取影像 {safe.name} 超时（0 秒）：文件过大或已损坏。"
