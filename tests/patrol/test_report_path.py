"""The report hot path: its prepared look-ups answer as the ORM and DRF do, and it survives a
dropped database connection. Real PostGIS throughout (see bench/patrol_submit.py for why the
path is written this way)."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from django.contrib.gis.geos import Point
from django.db import connection
from django.utils import timezone
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.test import APIClient

from gridgov.auth import token_user
from gridgov.selectors import locate_lonlat
from patrol.models import Issue
from patrol.selectors import issue_duplicates
from zoning.selectors import zones_covering, zones_covering_lonlat

URL = "/api/patrol/issues/"


def _body(here, **kw):
    b = {"client_uuid": str(uuid.uuid4()), "lat": here.y, "lon": here.x, "category": "air.dust", "description": "测试"}
    b.update(kw)
    return b


def test_token_user_answers_as_drf_lookup(users):
    officer = users["officer"]
    token, _ = Token.objects.get_or_create(user=officer)  # the R4 tests may have made it already
    user, found = token_user(token.key)
    expected = Token.objects.select_related("user").get(key=token.key)
    assert (found.key, found.user_id, found.created) == (expected.key, expected.user_id, expected.created)
    assert found.user is user
    for field in officer._meta.concrete_fields:
        assert getattr(user, field.attname) == getattr(expected.user, field.attname), field.name
    assert token_user(token.key[:-1] + ("0" if token.key[-1] != "0" else "1")) is None
    assert token_user("a\x00b") is None


def _drf_refusal(key: str) -> str:
    """What DRF's own TokenAuthentication says to this key (in the active language)."""
    with pytest.raises(AuthenticationFailed) as exc:
        TokenAuthentication().authenticate_credentials(key)
    return str(exc.value.detail)


def test_report_with_token_header_bad_token_and_inactive_user(users, here):
    officer = users["officer"]
    token, _ = Token.objects.get_or_create(user=officer)  # the R4 tests may have made it already
    client = APIClient()
    r = client.post(URL, _body(here), format="json", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert r.status_code == 201, r.content
    assert r["Content-Type"] == "application/json"
    assert Issue.objects.get(pk=r.json()["id"]).reporter_id == officer.pk
    # 403 rather than 401: DRF answers with the first authenticator's header, and session
    # authentication (first, as in the settings) has none. One status for every refusal.
    bad = "f" * 40
    r = client.post(URL, _body(here), format="json", HTTP_AUTHORIZATION=f"Token {bad}")
    assert r.status_code == 403 and r.json()["message"] == _drf_refusal(bad)
    officer.is_active = False
    officer.save(update_fields=["is_active"])
    r = client.post(URL, _body(here), format="json", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert r.status_code == 403 and r.json()["message"] == _drf_refusal(token.key)
    assert _drf_refusal(token.key) != _drf_refusal(bad)


def test_zones_covering_lonlat_matches_zones_covering(here, plain_here):
    for p in (here, plain_here, Point(120.14, 30.245, srid=4326), Point(116.4, 39.9, srid=4326)):
        assert zones_covering_lonlat(p.x, p.y) == zones_covering(p)
    assert zones_covering_lonlat(here.x, here.y), "the officer's cells lie in the West Lake priority unit"


def test_suggestions_are_the_newest_within_the_radius(users, here, report):
    near = [report() for _ in range(12)]
    # ~108 m north: inside the index's degree box (about 115 m in latitude), outside 100 m.
    north = Point(here.x, here.y + 0.00097, srid=4326)
    far = [report(point=north) for _ in range(2)]  # newer than every near case
    new = report()
    got = [d["id"] for d in new._duplicates]
    assert got == [d.pk for d in issue_duplicates(point=here, category="air.dust", exclude_id=new.pk)]
    assert len(got) == 10 and not set(got) & {i.pk for i in far}
    assert got[:10] == [i.pk for i in sorted(near, key=lambda i: (i.reported_at, i.pk), reverse=True)][:10]
    assert all(d["reported_at"] <= timezone.now().isoformat() for d in new._duplicates)


def on_own_connection(fn):
    """Run fn in a thread of its own (its own connection, outside the test's transaction) and
    return its result or raise its error; the connection is closed afterwards."""

    def run():
        try:
            return fn()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()


def test_first_read_of_a_request_is_its_health_check(here):
    """A connection the database dropped between requests is replaced on the first read of
    the next request, which then succeeds: a restart costs a reconnect, not a 500."""

    def run() -> dict:
        out = {"first": locate_lonlat(here.x, here.y), "pid1": connection.connection.info.backend_pid}
        with pytest.raises(psycopg.OperationalError):  # AdminShutdown: the server hung up
            connection.connection.execute("SELECT pg_terminate_backend(pg_backend_pid())")
        connection.close_if_unusable_or_obsolete()  # what Django does when a request starts
        assert not connection.health_check_done
        out["again"] = locate_lonlat(here.x, here.y)
        out["pid2"] = connection.connection.info.backend_pid
        out["checked"] = connection.health_check_done
        return out

    out = on_own_connection(run)
    assert out["again"] == out["first"] and out["pid1"] != out["pid2"] and out["checked"]


def test_write_cut_off_by_a_lost_connection_is_redone_once(db, tmp_path, settings):
    """The database drops the connection in the middle of an idempotent write (a restart):
    idempotent_write reconnects and runs it again, and the row exists exactly once. (A photo,
    keyed by its content hash, so the committed row can be removed afterwards; reports are
    idempotent the same way, by client_uuid.)"""
    import io

    from PIL import Image

    from gridgov.db.retry import idempotent_write
    from patrol.actions.photos import photo_store
    from patrol.models import Photo

    settings.MEDIA_ROOT = str(tmp_path)
    buf = io.BytesIO()
    Image.new("RGB", (24, 16), (7, 99, 201)).save(buf, format="JPEG")
    data = buf.getvalue()

    def run() -> dict:
        calls = []

        def store():
            calls.append(1)
            if len(calls) == 1:  # the first try loses its connection
                connection.ensure_connection()
                with pytest.raises(psycopg.OperationalError):
                    connection.connection.execute("SELECT pg_terminate_backend(pg_backend_pid())")
                connection.cursor().execute("SELECT 1")  # what Django raises on the dead connection
            return photo_store(data=data)

        photo, created = idempotent_write(store)
        out = {"created": created, "calls": len(calls), "n": Photo.objects.filter(sha256=photo.sha256).count()}
        Photo.objects.filter(sha256=photo.sha256).delete()
        return out

    assert on_own_connection(run) == {"created": True, "calls": 2, "n": 1}
