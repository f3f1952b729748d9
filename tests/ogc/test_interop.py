"""Real GIS clients read the OGC API and the tiles: GDAL's OAPIF driver always, QGIS where installed.

Both run as separate programs against the live test server (the demo: 5,000 grid cells, 52 units,
real districts). GDAL runs with a clean environment: the web process may carry GDAL_SKIP and
other settings for upload safety that must not reach the client.
"""

from __future__ import annotations

import json
import os
import subprocess
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent
SYSTEM_PYTHON = "/usr/bin/python3"


def clean_env(tmp_path, **extra) -> dict:
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8", **extra}


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=60) as response:
        return json.loads(response.read())


def test_ogr2ogr_copies_every_public_collection_with_numbermatched_features(live_url, tmp_path):
    collections = [c["id"] for c in get_json(f"{live_url}/ogc/collections")["collections"]]
    assert collections == ["control-units", "red-line", "grid-cells", "admin-areas", "quality-stations"]
    out = tmp_path / "copy.gpkg"
    subprocess.run(
        ["ogr2ogr", "-f", "GPKG", str(out), f"OAPIF:{live_url}/ogc/", "-oo", "PAGE_SIZE=1000"],
        env=clean_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    for cid in collections:
        matched = get_json(f"{live_url}/ogc/collections/{cid}/items?limit=1")["numberMatched"]
        info = subprocess.run(
            ["ogrinfo", "-ro", "-so", str(out), cid],
            env=clean_env(tmp_path),
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        count = int(next(line for line in info.splitlines() if line.startswith("Feature Count:")).split(":")[1])
        assert count == matched > 0, (cid, count, matched)


def test_ogrinfo_where_is_sent_to_the_server_as_cql(live_url, tmp_path):
    """GDAL 3.6 translates `-where` to CQL text (its draft name `cql-text`) for the listed queryables."""
    from zoning.models import ControlUnit

    expected = ControlUnit.objects.filter(category="key").count()
    run = subprocess.run(
        ["ogrinfo", "-ro", "-so", f"OAPIF:{live_url}/ogc/", "control-units", "-where", "category = 'key'"],
        env=clean_env(tmp_path, CPL_DEBUG="ON"),
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert f"Feature Count: {expected}" in run.stdout and expected > 0
    assert "filter=category" in run.stderr and "filter-lang=cql-text" in run.stderr, run.stderr[-2000:]


def test_ogrinfo_reads_a_layer_filtered_in_the_dataset_url(live_url, tmp_path):
    """The OAPIF URL carries a CQL2 filter (GDAL repeats its query string on every request)."""
    from zoning.models import ControlUnit

    expected = ControlUnit.objects.filter(category__in=["key", "general"]).count()
    flt = urllib.request.quote("category IN ('key','general')")
    run = subprocess.run(
        ["ogrinfo", "-ro", "-so", f"OAPIF:{live_url}/ogc/?filter={flt}&filter-lang=cql2-text", "control-units"],
        env=clean_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert f"Feature Count: {expected}" in run.stdout


def _qgis_available() -> str | None:
    if not os.path.exists(SYSTEM_PYTHON):
        return "no system python3"
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import qgis.core"], capture_output=True, timeout=60)
    return None if probe.returncode == 0 else "QGIS's Python API is not installed (apt-get install python3-qgis)"


@pytest.mark.skipif(_qgis_available() is not None, reason=str(_qgis_available()))
def test_qgis_loads_a_filtered_oapif_layer_and_a_styled_vector_tile_layer(live_url, tmp_path):
    from zoning.models import ControlUnit

    key = ControlUnit.objects.filter(category="key").order_by("code")
    priority = ControlUnit.objects.filter(category="priority").order_by("code").first()
    probe = {
        "subset": "category = 'key'",
        "points": {
            "key": list(key.first().geom.point_on_surface.coords),
            "priority": list(priority.geom.point_on_surface.coords),
        },
    }
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    run = subprocess.run(
        [SYSTEM_PYTHON, str(ROOT / "qgis_client.py"), live_url, json.dumps(probe)],
        env=clean_env(tmp_path, QT_QPA_PLATFORM="offscreen", XDG_RUNTIME_DIR=str(runtime)),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out["oapif_valid"] and out["oapif_all"] == ControlUnit.objects.count()
    assert out["oapif_subset_set"] and out["oapif_filtered_codes"] == list(key.values_list("code", flat=True))
    assert out["tiles_valid"] and out["style_loaded"], out["style_message"]
    assert out["style_layers"] == [
        "control-units-fill-priority",
        "control-units-fill-key",
        "control-units-fill-general",
        "control-units-line-outline",
    ]
    # The centre pixel over each unit has its category's colour (35 % over white):
    # key #c92a2a → (236, 181, 181), priority #2b8a3e → (181, 214, 188).
    r, g, b = out["pixels"]["key"]
    assert r > g + 40 and r > b + 40, out["pixels"]
    r, g, b = out["pixels"]["priority"]
    assert g > r + 20 and g > b + 15, out["pixels"]
