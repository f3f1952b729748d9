"""Case categories for online monitoring, and the append-only audit trail of sources."""

from django.db import migrations

# (code, name, default priority, (normal, high, urgent) working days, sort)
CATEGORIES = [
    ("air.online_exceedance", "废气在线监测超标", "high", (5, 3, 1), 6),
    ("water.online_exceedance", "废水在线监测超标", "high", (5, 3, 1), 11),
    ("other.logger_offline", "数采仪离线", "normal", (3, 2, 1), 90),
]


def add_categories(apps, schema_editor):
    Category = apps.get_model("patrol", "Category")
    for code, name, priority, (dn, dh, du), sort in CATEGORIES:
        Category.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "parent_id": code.split(".")[0],
                "default_priority": priority,
                "days_normal": dn,
                "days_high": dh,
                "days_urgent": du,
                "sort": sort,
            },
        )


AUDIT_TRIGGER = """
CREATE OR REPLACE FUNCTION sources_sourceevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'sources_sourceevent is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER sources_sourceevent_append_only
    BEFORE UPDATE OR DELETE ON sources_sourceevent
    FOR EACH ROW EXECUTE FUNCTION sources_sourceevent_append_only();
"""
DROP_AUDIT_TRIGGER = """
DROP TRIGGER IF EXISTS sources_sourceevent_append_only ON sources_sourceevent;
DROP FUNCTION IF EXISTS sources_sourceevent_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("sources", "0001_initial"), ("patrol", "0003_source_online_monitoring")]

    operations = [
        # Kept when unapplied: cases refer to their category (PROTECT).
        migrations.RunPython(add_categories, migrations.RunPython.noop),
        migrations.RunSQL(AUDIT_TRIGGER, DROP_AUDIT_TRIGGER),
    ]
