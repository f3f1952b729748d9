"""The case category for sections off target, and the append-only audit trail of stations."""

from django.db import migrations

# (code, name, default priority, (normal, high, urgent) working days, sort)
CATEGORY = ("water.section_off_target", "地表水断面水质不达标", "high", (10, 5, 2), 12)

AUDIT_TRIGGER = """
CREATE OR REPLACE FUNCTION quality_stationevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'quality_stationevent is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER quality_stationevent_append_only
    BEFORE UPDATE OR DELETE ON quality_stationevent
    FOR EACH ROW EXECUTE FUNCTION quality_stationevent_append_only();
"""
DROP_AUDIT_TRIGGER = """
DROP TRIGGER IF EXISTS quality_stationevent_append_only ON quality_stationevent;
DROP FUNCTION IF EXISTS quality_stationevent_append_only();
"""


def add_category(apps, schema_editor):
    Category = apps.get_model("patrol", "Category")
    code, name, priority, (dn, dh, du), sort = CATEGORY
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


def remove_category(apps, schema_editor):
    apps.get_model("patrol", "Category").objects.filter(code=CATEGORY[0], issues__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("quality", "0001_initial"), ("patrol", "0003_source_online_monitoring")]

    operations = [
        migrations.RunPython(add_category, remove_category),
        migrations.RunSQL(AUDIT_TRIGGER, DROP_AUDIT_TRIGGER),
    ]
