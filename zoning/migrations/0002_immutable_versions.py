"""Make zoning versions immutable in the database itself, not only in the services.

A version row may never be deleted, and may be updated only to close its validity
(`valid_to` from NULL to a time) when the next version replaces it.
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION zoning_version_immutable() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'zoning versions are immutable: DELETE refused (% v%)', OLD.code, OLD.version
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF OLD.valid_to IS NULL AND NEW.valid_to IS NOT NULL
       AND (to_jsonb(NEW) - 'valid_to') = (to_jsonb(OLD) - 'valid_to') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'zoning versions are immutable: UPDATE refused (% v%)', OLD.code, OLD.version
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER zoning_version_immutable
    BEFORE UPDATE OR DELETE ON zoning_zoningversion
    FOR EACH ROW EXECUTE FUNCTION zoning_version_immutable();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS zoning_version_immutable ON zoning_zoningversion;
DROP FUNCTION IF EXISTS zoning_version_immutable();
"""


class Migration(migrations.Migration):
    dependencies = [("zoning", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
