"""Grid cells also in Web Mercator, for the vector tiles: a stored generated column.

Every tile of `grid-cells` transformed each of its cells to EPSG:3857 again (a z12 tile holds
~500). `geom_merc` is computed by PostgreSQL whenever `geom` is written, so nothing can let
the two drift; it is not a model field (the ORM never selects it, no query pays for it), only
`gridgov.tiles` reads it, with its own GiST index.
"""

from django.db import migrations

SQL = """
ALTER TABLE gridgov_gridcell
  ADD COLUMN geom_merc geometry(MultiPolygon, 3857) GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED;
CREATE INDEX gridgov_gridcell_geom_merc_idx ON gridgov_gridcell USING gist (geom_merc);
"""
REVERSE = "ALTER TABLE gridgov_gridcell DROP COLUMN geom_merc;"


class Migration(migrations.Migration):
    dependencies = [("gridgov", "0003_role_enterprise_contact")]

    operations = [migrations.RunSQL(SQL, REVERSE)]
