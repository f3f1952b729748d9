"""Batch export of control units: `manage.py zoning_export OUT --format gpkg|shp|geojson --crs 4490|4326`."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from gridgov.errors import GridGovError
from zoning import exchange


class Command(BaseCommand):
    help = "Export the control units (shp is written as a zip)."

    def add_arguments(self, parser):
        parser.add_argument("out")
        parser.add_argument("--format", default="gpkg", choices=["gpkg", "shp", "geojson"])
        parser.add_argument("--crs", default="4490", choices=["4490", "4326"])

    def handle(self, *args, out, format, crs, **options):
        try:
            data, filename, _ctype = exchange.units_export(fmt=format, crs=crs)
        except GridGovError as exc:
            raise CommandError(exc.message) from exc
        Path(out).write_bytes(data)
        self.stdout.write(f"wrote {out} ({len(data)} bytes, {filename})")
