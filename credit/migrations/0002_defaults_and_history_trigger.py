from django.db import migrations


def load_defaults(apps, schema_editor):
    from credit.defaults import load

    load(apps.get_model("credit", "CreditRule"), apps.get_model("credit", "CreditScheme"))


# The score history is append-only: the database refuses UPDATE and DELETE of a row, and
# TRUNCATE of the table, so no bug and no hand-written query can rewrite an enterprise's record.
HISTORY_TRIGGER = """
CREATE OR REPLACE FUNCTION credit_scorechange_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'credit_scorechange is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER credit_scorechange_append_only
    BEFORE UPDATE OR DELETE ON credit_scorechange
    FOR EACH ROW EXECUTE FUNCTION credit_scorechange_append_only();
CREATE TRIGGER credit_scorechange_no_truncate
    BEFORE TRUNCATE ON credit_scorechange
    FOR EACH STATEMENT EXECUTE FUNCTION credit_scorechange_append_only();
"""

DROP_HISTORY_TRIGGER = """
DROP TRIGGER IF EXISTS credit_scorechange_no_truncate ON credit_scorechange;
DROP TRIGGER IF EXISTS credit_scorechange_append_only ON credit_scorechange;
DROP FUNCTION IF EXISTS credit_scorechange_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("credit", "0001_initial")]

    operations = [
        migrations.RunPython(load_defaults, migrations.RunPython.noop),
        migrations.RunSQL(HISTORY_TRIGGER, DROP_HISTORY_TRIGGER),
    ]
