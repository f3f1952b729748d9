"""R4 in the test budget: the permission matrix from reliability/access.py and
patrol/transitions.py, CSRF, upload limit, personal data, audit immutability, login throttle.
Every cell must pass.
"""

import pytest

from reliability import matrix

# The mark makes pytest-django create the session's test database even when this file runs
# alone; without it the server and the fixtures would use the development database.
pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def fixtures(rel_server, django_db_blocker):
    with django_db_blocker.unblock():
        return matrix.prepare()


def test_permission_matrix(rel_server, fixtures, django_db_blocker):
    base, db_url, _ = rel_server
    with django_db_blocker.unblock():
        tally = matrix.check(base, fixtures, database_url=db_url)
    unlisted = matrix.access.unlisted()
    print(f"R4 cells={tally.checked} failed={len(tally.failed)} unlisted_routes={len(unlisted)}")
    assert tally.checked > 300
    assert not tally.failed, "\n".join(tally.failed)
    assert not unlisted, f"routes without a row in reliability/access.py: {unlisted}"
