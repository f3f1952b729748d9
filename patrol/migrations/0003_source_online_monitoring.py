from django.db import migrations, models


class Migration(migrations.Migration):
    """The online-monitoring source is spelled `online_monitoring` (the API's contract)."""

    dependencies = [("patrol", "0002_taxonomy_and_audit_trigger")]

    operations = [
        migrations.AlterField(
            model_name="issue",
            name="source",
            field=models.CharField(
                choices=[
                    ("patrol", "网格巡查"),
                    ("citizen", "群众举报"),
                    ("imagery", "遥感监测"),
                    ("online_monitoring", "在线监测"),
                    ("inspection", "执法检查"),
                ],
                db_index=True,
                default="patrol",
                max_length=24,
                verbose_name="来源",
            ),
        ),
        migrations.RunSQL(
            "UPDATE patrol_issue SET source = 'online_monitoring' WHERE source = 'monitoring'",
            "UPDATE patrol_issue SET source = 'monitoring' WHERE source = 'online_monitoring'",
        ),
    ]
