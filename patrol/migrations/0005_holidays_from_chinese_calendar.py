from django.db import migrations


def seed_holidays(apps, schema_editor):
    """The official holidays and 调休 working days from the chinese-calendar package (see
    patrol/calendar.py); `manage.py holidays_sync` refreshes them after a package upgrade."""
    from patrol.calendar import holidays_sync

    holidays_sync(apps.get_model("patrol", "Holiday"))


class Migration(migrations.Migration):
    dependencies = [("patrol", "0004_photo_originals_removed")]

    operations = [migrations.RunPython(seed_holidays, migrations.RunPython.noop)]
