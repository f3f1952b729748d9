"""`make backup` / `make restore`: a backup restored into a fresh database holds every case,
photo (row and file) and zone version of the original."""

import os
import subprocess
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.contrib.gis.geos import Point
from django.db import connection

from tests.patrol.conftest import jpeg_bytes

ROOT = Path(__file__).resolve().parents[2]
RESTORE_DB = "test_gridgov_reliability_restore"
pytestmark = pytest.mark.django_db  # the test database, also when this file runs alone


def _url(name: str | None = None) -> str:
    db = settings.DATABASES["default"]
    return f"postgresql://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{name or db['NAME']}"


def _rows(url: str, sql: str) -> set:
    with psycopg.connect(url) as conn:
        return set(conn.execute(sql).fetchall())


@pytest.fixture
def committed_case(tmp_path, settings):
    """A committed case with a photo, its files under a MEDIA_ROOT of our own.

    Written on a thread of its own (its own connection, committed at once): the test itself runs
    in the test database's rolled-back transaction, which pg_dump would not see.
    """
    from gridgov.models import GridCell, User
    from patrol.actions.photos import photo_store
    from patrol.actions.reporting import issue_report

    media = tmp_path / "media"
    settings.MEDIA_ROOT = str(media)
    picture = jpeg_bytes(unique=True)

    def write():
        try:
            officer = User.objects.get(username="officer")
            photo, _ = photo_store(data=picture, uploaded_by=officer)
            pt = GridCell.objects.filter(assignments__user=officer).first().geom.point_on_surface
            issue, _ = issue_report(
                reporter=officer,
                point=Point(pt.x, pt.y, srid=4326),
                category="other",
                description="备份测试（合成）",
                client_uuid=uuid.uuid4(),
                photo_hashes=[photo.sha256],
            )
            return issue, photo
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        issue, photo = pool.submit(write).result()
    return issue, photo, media


def test_backup_restores_every_case_photo_and_zone_version(committed_case, tmp_path):
    issue, photo, media = committed_case
    env = {**os.environ, "DATABASE_URL": _url(), "MEDIA_ROOT": str(media)}
    backup = tmp_path / "gridgov.tar"
    subprocess.run(["scripts/backup.sh", str(backup)], cwd=ROOT, env=env, check=True, capture_output=True)
    restored_media = tmp_path / "restored-media"
    env_r = {**env, "RESTORE_DB": RESTORE_DB, "RESTORE_MEDIA": str(restored_media), "FORCE": "1"}
    out = subprocess.run(["scripts/restore.sh", str(backup)], cwd=ROOT, env=env_r, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    try:
        src, dst = _url(), _url(RESTORE_DB)
        cases = "SELECT id, client_uuid, status, content_digest FROM patrol_issue"
        assert _rows(dst, cases) == _rows(src, cases)
        assert (issue.pk, issue.client_uuid) in {(r[0], r[1]) for r in _rows(dst, cases)}
        photos = "SELECT sha256, image FROM patrol_photo"
        restored = _rows(dst, photos)
        assert restored == _rows(src, photos)
        links = "SELECT issue_id, photo_id FROM patrol_issue_photos"
        assert _rows(dst, links) == _rows(src, links)
        events = "SELECT id, issue_id, action, to_status FROM patrol_issueevent"
        assert _rows(dst, events) == _rows(src, events)
        # Every file of this MEDIA_ROOT's photos came back, byte for byte.
        for rel in (p.relative_to(media) for p in media.rglob("*") if p.is_file()):
            assert (restored_media / rel).read_bytes() == (media / rel).read_bytes()
        assert (restored_media / "patrol" / "photos" / f"{photo.sha256}.jpg").exists()
        versions = "SELECT layer, code, version, ST_AsEWKB(geom) FROM zoning_zoningversion"
        assert _rows(src, versions), "the demo's zone versions are there to be restored"
        assert _rows(dst, versions) == _rows(src, versions)
    finally:
        with psycopg.connect(_url("postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{RESTORE_DB}" WITH (FORCE)')


def test_restore_refuses_to_overwrite_the_current_database(tmp_path):
    env = {**os.environ, "DATABASE_URL": _url(), "RESTORE_DB": settings.DATABASES["default"]["NAME"]}
    (tmp_path / "x.tar").write_bytes(b"")
    out = subprocess.run(
        ["scripts/restore.sh", str(tmp_path / "x.tar")], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.returncode != 0
