"""The runtime role's privileges: what the server and worker need, and no way to erase history.

The schema belongs to the owner role (migrations run as it). The runtime role may read and
write every table, except the append-only ones (`settings.GRIDGOV_APPEND_ONLY_TABLES`: case
events, zoning versions, imagery reviews, the history tables later apps add), which it may only
add to and read (plus the few columns named there). Being neither owner nor superuser, it
cannot `ALTER TABLE … DISABLE TRIGGER`, drop the immutability triggers or `COPY … TO PROGRAM`.
On top of that every append-only table refuses TRUNCATE by a statement-level trigger, whoever
asks (row triggers do not fire on TRUNCATE).

`apply_after_migrate` runs after every `migrate` (post_migrate), so a table that a migration
adds is covered at once; `manage.py grant_runtime_role` applies the same to a restored copy.
Raw SQL: GRANT, REVOKE and triggers have no ORM form; names are quoted, nothing else is bound.
"""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connections

TRUNCATE_GUARD = """
CREATE OR REPLACE FUNCTION gridgov_refuse_truncate() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: TRUNCATE refused', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
"""


def append_only_tables() -> dict[str, tuple[str, ...]]:
    """The append-only tables: table name -> the columns the runtime role may still update."""
    tables = {}
    for label, fields in settings.GRIDGOV_APPEND_ONLY_TABLES.items():
        try:
            model = apps.get_model(label)
        except LookupError:
            raise ImproperlyConfigured(f"GRIDGOV_APPEND_ONLY_TABLES names {label!r}, which is not an installed model")
        tables[model._meta.db_table] = tuple(model._meta.get_field(f).column for f in fields)
    return tables


def apply_runtime_privileges(connection, *, runtime_role: str) -> list[str]:
    """Guard the append-only tables and grant `runtime_role` its privileges; return the tables.

    Run as the owner of the tables. With one role for everything (`runtime_role` is the
    current user, or empty) only the TRUNCATE guards are installed.
    """
    qn = connection.ops.quote_name
    tables = append_only_tables()
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, current_schema()")
        current_user, schema = cursor.fetchone()
        existing = set(connection.introspection.table_names(cursor))
        tables = {t: cols for t, cols in tables.items() if t in existing}
        cursor.execute(TRUNCATE_GUARD)
        for table in tables:
            cursor.execute(
                f"CREATE OR REPLACE TRIGGER gridgov_refuse_truncate BEFORE TRUNCATE ON {qn(table)} "
                "FOR EACH STATEMENT EXECUTE FUNCTION gridgov_refuse_truncate()"
            )
        if not runtime_role or runtime_role == current_user:
            return sorted(tables)
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", [runtime_role])
        row = cursor.fetchone()
        if row is None:
            raise ImproperlyConfigured(f"the runtime database role {runtime_role!r} does not exist")
        if row[0]:
            raise ImproperlyConfigured(f"the runtime database role {runtime_role!r} is a superuser")
        role, space = qn(runtime_role), qn(schema)
        statements = [
            f"GRANT USAGE ON SCHEMA {space} TO {role}",
            # TRUNCATE too: the app rebuilds derived tables (the grid-cell parts) that way.
            f"GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA {space} TO {role}",
            f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {space} TO {role}",
            f"GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA {space} TO {role}",
            # Tables the owner makes outside migrations (createcachetable) get the same.
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA {space} GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON TABLES"
            f" TO {role}",
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA {space} GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {role}",
            f"REVOKE TRIGGER, REFERENCES ON ALL TABLES IN SCHEMA {space} FROM {role}",
        ]
        for table, columns in tables.items():
            # Revoking the table's UPDATE revokes its column privileges too; grant back the few.
            statements.append(f"REVOKE UPDATE, DELETE, TRUNCATE ON {qn(table)} FROM {role}")
            if columns:
                statements.append(f"GRANT UPDATE ({', '.join(qn(c) for c in columns)}) ON {qn(table)} TO {role}")
        for sql in statements:
            cursor.execute(sql)
    return sorted(tables)


def apply_after_migrate(sender, *, using: str, **kwargs) -> None:
    """post_migrate: (re)apply the runtime role's privileges on the database just migrated."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    apply_runtime_privileges(connection, runtime_role=settings.GRIDGOV_DB_RUNTIME_ROLE)
