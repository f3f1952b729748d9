from django.db import migrations

# A plan's audit trail (create, edit, commit, draw, results) is append-only, as the case events
# and the credit history are: no UPDATE, DELETE or TRUNCATE.
AUDIT_TRIGGER = """
CREATE OR REPLACE FUNCTION inspections_planevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'inspections_planevent is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER inspections_planevent_append_only
    BEFORE UPDATE OR DELETE ON inspections_planevent
    FOR EACH ROW EXECUTE FUNCTION inspections_planevent_append_only();
CREATE TRIGGER inspections_planevent_no_truncate
    BEFORE TRUNCATE ON inspections_planevent
    FOR EACH STATEMENT EXECUTE FUNCTION inspections_planevent_append_only();
"""

DROP_AUDIT_TRIGGER = """
DROP TRIGGER IF EXISTS inspections_planevent_no_truncate ON inspections_planevent;
DROP TRIGGER IF EXISTS inspections_planevent_append_only ON inspections_planevent;
DROP FUNCTION IF EXISTS inspections_planevent_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("inspections", "0001_initial")]

    operations = [migrations.RunSQL(AUDIT_TRIGGER, DROP_AUDIT_TRIGGER)]
