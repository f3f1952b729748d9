from django.core.files.storage import default_storage
from django.db import migrations


def delete_originals(apps, schema_editor):
    """The bytes as uploaded (full EXIF with GPS, trailing data) are no longer kept: remove the
    files of existing photos; the re-encoded copy (`image`) is all that stays (issue 12)."""
    Photo = apps.get_model("patrol", "Photo")
    for name in Photo.objects.exclude(original="").values_list("original", flat=True).iterator():
        if default_storage.exists(name):
            default_storage.delete(name)


class Migration(migrations.Migration):
    dependencies = [("patrol", "0003_source_online_monitoring")]

    operations = [
        migrations.RunPython(delete_originals, migrations.RunPython.noop),
        migrations.RemoveField(model_name="photo", name="original"),
    ]
