"""Monthly partitions made and dropped through two SECURITY DEFINER functions owned by the schema
owner: the receiver, the worker and `load_demo` connect as the runtime role, which may not create
or drop tables (docs/deployment.md), yet the store needs a new month's partition when the month
begins or late data arrive. The functions take only a period letter and a month, build the name
and bounds themselves, and are executable by the roles `gridgov/db/roles.py` grants (not PUBLIC).
"""

from django.db import migrations

FUNCTIONS = r"""
CREATE FUNCTION monitoring_partition_create(period text, month date) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    first timestamptz := date_trunc('month', month)::timestamp AT TIME ZONE 'Asia/Shanghai';
    next timestamptz := (date_trunc('month', month) + interval '1 month')::timestamp AT TIME ZONE 'Asia/Shanghai';
    name text := format('monitoring_reading_%s_%s', lower(period), to_char(month, 'YYYYMM'));
BEGIN
    IF period NOT IN ('R', 'M', 'H', 'D') THEN
        RAISE EXCEPTION 'unknown period %', period USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF to_regclass(name) IS NOT NULL THEN
        RETURN false;
    END IF;
    EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                   name, 'monitoring_reading_' || lower(period), first, next);
    RETURN true;
EXCEPTION WHEN duplicate_table OR unique_violation THEN  -- made a moment ago by another writer
    RETURN false;
END $$;

CREATE FUNCTION monitoring_partition_drop(period text, month date) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    name text := format('monitoring_reading_%s_%s', lower(period), to_char(month, 'YYYYMM'));
BEGIN
    IF period NOT IN ('R', 'M', 'H', 'D') THEN
        RAISE EXCEPTION 'unknown period %', period USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF to_regclass(name) IS NULL THEN
        RETURN false;
    END IF;
    EXECUTE format('DROP TABLE %I', name);
    RETURN true;
END $$;

REVOKE EXECUTE ON FUNCTION monitoring_partition_create(text, date) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION monitoring_partition_drop(text, date) FROM PUBLIC;
"""

DROP = """
DROP FUNCTION monitoring_partition_create(text, date);
DROP FUNCTION monitoring_partition_drop(text, date);
"""


def first_partitions(apps, schema_editor):
    """This month's partitions and the next few (idempotent: a database migrated before kept its own)."""
    from django.utils import timezone

    from monitoring.store import maintain

    with schema_editor.connection.cursor() as cursor:
        maintain(cursor, now=timezone.now())


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0002_store")]
    operations = [
        migrations.RunSQL(FUNCTIONS, DROP),
        migrations.RunPython(first_partitions, migrations.RunPython.noop),
    ]
