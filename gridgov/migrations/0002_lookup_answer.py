from django.db import migrations, models

FIELDS = [("cell_code", 14), ("township_code", 9), ("township_name", 64), ("district_code", 6), ("district_name", 64)]

REFILL = """
UPDATE gridgov_gridcellpart p
   SET cell_code = c.code, township_code = t.code, township_name = t.name,
       district_code = d.code, district_name = d.name
  FROM gridgov_gridcell c
  JOIN gridgov_adminarea t ON t.id = c.township_id
  JOIN gridgov_adminarea d ON d.id = t.parent_id
 WHERE c.id = p.cell_id
"""


class Migration(migrations.Migration):
    dependencies = [("gridgov", "0001_initial")]

    operations = [
        *[
            migrations.AddField(
                model_name="gridcellpart",
                name=name,
                field=models.CharField(default="", max_length=length),
                preserve_default=False,
            )
            for name, length in FIELDS
        ],
        migrations.RunSQL(REFILL, migrations.RunSQL.noop),
    ]
