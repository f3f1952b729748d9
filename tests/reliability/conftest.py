"""A production-like server (gunicorn, DEBUG off) on the committed test database, for the
reliability tests. The harness (`make reliability`) uses its own throwaway cluster instead."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import override_settings


def _db_url() -> str:
    db = settings.DATABASES["default"]
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@pytest.fixture(scope="session")
def rel_media(tmp_path_factory):
    return str(tmp_path_factory.mktemp("rel-media"))


def pytest_collection_modifyitems(items):
    """Every reliability test asks for the database: so pytest-django creates the test database
    even when one of these files runs alone, and nothing here reaches the development database
    (without a `django_db` item in the session, `django_db_setup` sets up no database at all)."""
    for item in items:
        if "tests/reliability/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.django_db)


@pytest.fixture(scope="session")
def rel_server(django_db_setup, django_db_blocker, rel_media):
    """(base URL, database URL, MEDIA_ROOT) of gunicorn serving the test database."""
    from reliability.cluster import Server

    name = settings.DATABASES["default"]["NAME"]
    assert name.startswith("test_"), f"the reliability server must serve the test database, not {name!r}"
    server = Server(database_url=_db_url(), media_root=rel_media, workers=2)
    server.start()
    # This process writes fixtures (photos) into the same media folder as the server.
    with override_settings(MEDIA_ROOT=rel_media):
        yield server.base, _db_url(), rel_media
    server.stop()
