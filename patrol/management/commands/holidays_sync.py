"""manage.py holidays_sync: refresh the holiday table from the pinned chinese-calendar package."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from patrol.calendar import holidays_sync
from patrol.models import Holiday


class Command(BaseCommand):
    help = "Write the official holidays and 调休 working days (chinese-calendar) into the holiday table."

    def handle(self, *args, **options) -> None:
        new = holidays_sync(Holiday)
        self.stdout.write(f"holidays: {new} new, {Holiday.objects.count()} in the table")
