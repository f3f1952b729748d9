"""R3's hostile vector files (reliability/corpus.py) through both vector upload paths, in the suite.

Each file tries to make GDAL read or fetch something outside itself: a VRT naming a local file,
SQL or /vsicurl/, GML with external entities, KML with a network link, a shapefile whose .prj
or .cpg names the network, GeoJSON whose crs is a link, a GeoPackage view, formats under the
wrong name, zips with links, duplicates, nesting, encryption or network names. Every one must
be refused with a 400 naming why, with nothing read (the secret never comes back), nothing
fetched (the local listener sees no request) and nothing left in the database or on disk.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from reliability import corpus, hostile
from zoning.models import ControlUnit, ZoningVersion

SECRET = hostile.SECRET
REFUSED_AS = {
    "vrt_csv_as_geojson": "not_format",
    "vrt_sql_as_json": "not_format",
    "vrt_vsicurl_as_geojson": "not_format",
    "vrt_declared": "file_type",
    "vrt_in_zip": "not_format",
    "gml_xxe_as_geojson": "not_format",
    "gml_xxe_declared": "file_type",
    "gml_xxe_in_zip": "zip_no_data",
    "kml_network_link": "file_type",
    "kml_in_zip": "zip_no_data",
    "geojson_crs_link": "crs_reference",
    "geojson_crs_vsicurl": "crs_reference",
    "shp_prj_vsicurl": "bad_prj",
    "shp_prj_url": "bad_prj",
    "shp_cpg_vsicurl": "bad_cpg",
    "gpkg_view": "gpkg_view",
    "gpkg_as_geojson": "not_format",
    "geojson_as_gpkg": "not_format",
    "zip_symlink": "zip_unsafe",
    "zip_duplicate": "zip_duplicate",
    "zip_nested": "zip_no_data",
    "zip_encrypted": "zip_encrypted",
    "zip_vsicurl_name": "zip_unsafe",
}


@pytest.fixture
def listener():
    with hostile.Listener() as server:
        yield server


@pytest.fixture
def secret(tmp_path):
    path = tmp_path / "secret.csv"
    path.write_text(f"secret\n{SECRET}\n")
    return str(path)


def _temporary_dirs() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("zoning-*")}


def test_the_corpus_covers_every_class(listener, secret):
    names = [name for name, *_ in corpus.vector_files(listener=listener.url, secret=secret)]
    assert sorted(names) == sorted(REFUSED_AS)


@pytest.mark.parametrize("endpoint", ["/api/zoning/import/", "/api/zoning/analyze/"])
def test_hostile_vector_files_are_refused_unread_and_unfetched(db, user_api, listener, secret, endpoint):
    client = user_api("planner")
    units, versions, dirs = ControlUnit.objects.count(), ZoningVersion.objects.count(), _temporary_dirs()
    for name, filename, ctype, data in corpus.vector_files(listener=listener.url, secret=secret):
        upload = SimpleUploadedFile(filename, data, content_type=ctype)
        r = client.post(endpoint, {"file": upload, "reason": "恶意文件测试", "dry_run": "true"}, format="multipart")
        assert r.status_code == 400, (name, r.content[:300])
        assert SECRET not in r.content.decode(), name
        body = r.json()
        assert (body["code"], body["field"]) == (REFUSED_AS[name], "file"), (name, body)
        assert tempfile.gettempdir() not in body["message"], name  # no server path in a message
    assert listener.requests == []
    assert (ControlUnit.objects.count(), ZoningVersion.objects.count()) == (units, versions)
    assert _temporary_dirs() == dirs
