from django.db import migrations


def load_taxonomy(apps, schema_editor):
    from patrol.taxonomy import sync

    sync(apps.get_model("patrol", "Category"))


# The audit table is append-only: the database itself refuses UPDATE and DELETE, so neither a
# bug nor a hand-written query can rewrite a case's history. TRUNCATE (statement level) is left
# to operators who rebuild a scratch database on purpose.
AUDIT_TRIGGER = """
CREATE OR REPLACE FUNCTION patrol_issueevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'patrol_issueevent is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER patrol_issueevent_append_only
    BEFORE UPDATE OR DELETE ON patrol_issueevent
    FOR EACH ROW EXECUTE FUNCTION patrol_issueevent_append_only();
"""

DROP_AUDIT_TRIGGER = """
DROP TRIGGER IF EXISTS patrol_issueevent_append_only ON patrol_issueevent;
DROP FUNCTION IF EXISTS patrol_issueevent_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("patrol", "0001_initial")]

    operations = [
        migrations.RunPython(load_taxonomy, migrations.RunPython.noop),
        migrations.RunSQL(AUDIT_TRIGGER, DROP_AUDIT_TRIGGER),
    ]
