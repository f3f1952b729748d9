"""Batch export of control units: `manage.py zoning_export OUT --format gpkg|shp|geojson --crs 4490|4326`."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from gridgov.errors import GridGovError
from zoning.exports import ExportFormat, OutputCRS, units_export


class Command(BaseCommand):
    help = "Export the control units (shp is written as a zip)."

    def add_arguments(self, parser):
        parser.add_argument("out")
        parser.add_argument("--format", default=ExportFormat.GPKG, choices=ExportFormat.values)
        parser.add_argument("--crs", default=OutputCRS.CGCS2000, choices=OutputCRS.values)

    def handle(self, *args, out, format, crs, **options):
        try:
            data, filename, _ctype = units_export(fmt=format, crs=crs)
        except GridGovError as exc:
            raise CommandError(str(exc.message)) from exc
        Path(out).write_bytes(data)
        self.stdout.write(f"wrote {out} ({len(data)} bytes, {filename})")
