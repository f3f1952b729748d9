"""Register scenes: stacked GeoTIFFs, .SAFE folders or zips, STAC items, Landsat C2 folders
(each given, or every one under a folder)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from geodata.raster.constants import SENSORS
from geodata.services.scenes import scene_register, scenes_register_folder
from gridgov.errors import GridGovError


class Command(BaseCommand):
    help = "Register scenes: validate, read CRS / footprint / nodata, store. Date from --acquired, tags or file name."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", help="products, or folders of products")
        parser.add_argument("--sensor", choices=sorted(SENSORS))
        parser.add_argument("--acquired", type=dt.date.fromisoformat, help="YYYY-MM-DD (files only)")

    def handle(self, *args, paths, sensor, acquired, **options) -> None:
        for p in paths:
            try:
                if Path(p).is_dir() and not (Path(p).suffix.upper() == ".SAFE" or any(Path(p).glob("*_MTL.txt"))):
                    scenes = scenes_register_folder(folder=p, sensor=sensor)
                else:
                    scenes = [scene_register(path=p, sensor=sensor, acquired=acquired)]
            except GridGovError as exc:
                raise CommandError(f"[{exc.code}] {exc.message}") from exc
            for s in scenes:
                self.stdout.write(f"#{s.pk} {s.path} {s.sensor} {s.acquired} {s.crs} {s.width}x{s.height}")
