"""The runtime database role cannot erase history (issue 12 §2).

The suite itself runs as the owner role (it creates and migrates the test database); here a
second connection logs in as the runtime role that the server and worker use (var/database_url,
made by scripts/pg.sh) to the same test database, and tries what an attacker holding the app's
credentials would try.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from gridgov.db.roles import append_only_tables

pytestmark = pytest.mark.django_db

APPEND_ONLY = [
    "patrol_issueevent",
    "zoning_zoningversion",
    "geodata_candidatereview",
    "sources_sourceevent",
    "credit_scorechange",
    "inspections_planevent",
    "quality_stationevent",
]


@pytest.fixture
def runtime():
    """A psycopg connection to the test database as the runtime role."""
    path = settings.VAR_DIR / "database_url"
    if not path.exists():
        pytest.skip("no project-local cluster (DATABASE_URL set): the runtime role is the deployment's")
    parts = urlsplit(path.read_text().strip())
    db = settings.DATABASES["default"]
    assert parts.username != db["USER"], "the runtime role must not be the owner role"
    conn = psycopg.connect(
        host=db["HOST"], port=db["PORT"], dbname=db["NAME"], user=parts.username, password=parts.password
    )
    yield conn
    conn.close()


def refused(conn, sql: str, params=()) -> str:
    """Run `sql` in a transaction that is rolled back; return the error class name, or 'allowed'."""
    try:
        with conn.transaction():
            conn.execute(sql, params)
            raise _Allowed()
    except _Allowed:
        return "allowed"
    except psycopg.Error as exc:
        return type(exc).__name__


class _Allowed(Exception):
    pass


def test_the_append_only_list_covers_events_versions_and_reviews():
    assert sorted(append_only_tables()) == sorted(APPEND_ONLY)
    assert append_only_tables()["zoning_zoningversion"] == ("valid_to",)


def test_runtime_role_is_neither_superuser_nor_owner(runtime):
    row = runtime.execute(
        "SELECT r.rolsuper, r.rolcreaterole, r.rolcreatedb, pg_has_role(current_user, 'pg_execute_server_program', 'MEMBER')"
        "  FROM pg_roles r WHERE r.rolname = current_user"
    ).fetchone()
    assert row == (False, False, False, False)
    owners = {
        r[0]
        for r in runtime.execute(
            "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE 'patrol_%'"
        )
    }
    assert runtime.info.user not in owners


@pytest.mark.parametrize("table", APPEND_ONLY)
def test_runtime_role_cannot_truncate_update_or_delete_history(runtime, table):
    assert runtime.execute(f"SELECT count(*) FROM {table}").fetchone()[0] >= 0  # reading is allowed
    assert refused(runtime, f"TRUNCATE {table}") == "InsufficientPrivilege"
    assert refused(runtime, f"DELETE FROM {table}") == "InsufficientPrivilege"
    assert refused(runtime, f"UPDATE {table} SET id = id") == "InsufficientPrivilege"
    assert refused(runtime, f"ALTER TABLE {table} DISABLE TRIGGER ALL") == "InsufficientPrivilege"
    assert refused(runtime, f"DROP TABLE {table}") == "InsufficientPrivilege"


def test_the_demo_history_exists_and_the_runtime_role_may_add_to_it(runtime):
    """An audit row can be added (the app does so on every transition) and read back."""
    issue_id = runtime.execute("SELECT min(id) FROM patrol_issue").fetchone()[0]
    assert issue_id is not None, "the demo loads cases"
    with runtime.transaction(force_rollback=True):
        runtime.execute(
            "INSERT INTO patrol_issueevent (issue_id, action, from_status, to_status, at, note, photo_hashes, data)"
            " VALUES (%s, 'note', '', 'reported', now(), 'runtime role test', '{}', '{}')",
            [issue_id],
        )
        assert runtime.execute(
            "SELECT count(*) FROM patrol_issueevent WHERE note = 'runtime role test'"
        ).fetchone() == (1,)


def test_zoning_versions_only_let_the_runtime_role_close_their_validity(runtime):
    assert refused(runtime, "UPDATE zoning_zoningversion SET valid_to = valid_to WHERE false") == "allowed"
    assert (
        refused(runtime, "UPDATE zoning_zoningversion SET reason = 'rewritten' WHERE false") == "InsufficientPrivilege"
    )


def test_runtime_role_cannot_run_programs_or_read_server_files(runtime):
    assert refused(runtime, "COPY (SELECT 1) TO PROGRAM 'true'") == "InsufficientPrivilege"
    assert refused(runtime, "COPY patrol_category FROM '/etc/passwd'") == "InsufficientPrivilege"
    assert refused(runtime, "SELECT pg_read_file('/etc/passwd')") == "InsufficientPrivilege"
    assert refused(runtime, "CREATE TABLE gridgov_runtime_probe (id int)") == "InsufficientPrivilege"


def test_runtime_role_keeps_ordinary_writes(runtime):
    """What the app needs still works: a case can be changed and the cache written."""
    assert refused(runtime, "UPDATE patrol_issue SET description = description WHERE false") == "allowed"
    assert refused(runtime, "DELETE FROM gridgov_cache WHERE false") == "allowed"
    assert refused(runtime, "SELECT nextval(pg_get_serial_sequence('patrol_issue', 'id'))") == "allowed"


@pytest.mark.parametrize("table", APPEND_ONLY)
def test_even_the_owner_cannot_truncate_history(table):
    """The statement-level trigger refuses TRUNCATE whoever asks (row triggers do not fire on it)."""
    with pytest.raises(Exception, match="append-only: TRUNCATE refused"):
        with connection.cursor() as cursor:
            cursor.execute("SAVEPOINT t")
            try:
                cursor.execute(f"TRUNCATE {table} CASCADE")
            finally:
                cursor.execute("ROLLBACK TO SAVEPOINT t")


def test_runtime_role_makes_and_drops_monitoring_partitions_only_through_the_owners_functions(runtime):
    """The receiver and the worker run as the runtime role; a new month needs a new partition
    (monitoring migration 0003). Direct DDL stays refused; the functions take a period letter only."""
    refusal = "CREATE TABLE monitoring_reading_h_209901 PARTITION OF monitoring_reading_h "
    refusal += "FOR VALUES FROM ('2099-01-01 00:00+08') TO ('2099-02-01 00:00+08')"
    assert refused(runtime, refusal) == "InsufficientPrivilege"
    with runtime.transaction():
        made = runtime.execute("SELECT monitoring_partition_create('H', '2099-01-15')").fetchone()[0]
        again = runtime.execute("SELECT monitoring_partition_create('H', '2099-01-01')").fetchone()[0]
        bounds = runtime.execute(
            "SELECT pg_get_expr(relpartbound, oid) FROM pg_class WHERE relname = 'monitoring_reading_h_209901'"
        ).fetchone()[0]
        runtime.execute("SET TIME ZONE 'Asia/Shanghai'")
        runtime.execute(
            "INSERT INTO monitoring_reading (time, value, logger_id, period, flag, origin, factor) "
            "SELECT '2099-01-31 23:00+08', 1, id, 'H', 'N', 'C', 'w01018' FROM monitoring_logger LIMIT 0"
        )
        dropped = runtime.execute("SELECT monitoring_partition_drop('H', '2099-01-01')").fetchone()[0]
    assert (made, again, dropped) == (True, False, True)
    assert "2099-01-01 00:00:00+08" in bounds or "2098-12-31 16:00:00+00" in bounds
    assert refused(runtime, "SELECT monitoring_partition_create('X; DROP TABLE patrol_issue', '2099-01-01')") == (
        "InvalidParameterValue"
    )
