"""Write a synthetic GF-2 scene pair (合成) over Hangzhou with ground truth."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from geodata.demo import DEMO_SEED, DEMO_SIZE, demo_dir, make_demo_pair


class Command(BaseCommand):
    help = (
        "Write before.tif / after.tif (4-band B,G,R,NIR, tiled deflate GeoTIFF, EPSG:32651, 4 m, around West Lake) "
        "with injected changes, clouds, noise and a 1-pixel shift, plus truth.geojson."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", help="output folder (default var/demo_scenes/xihu_<size>_<seed>)")
        parser.add_argument("--size", type=int, default=DEMO_SIZE, help="width and height in pixels")
        parser.add_argument("--seed", type=int, default=DEMO_SEED)

    def handle(self, *args, out: str | None, size: int, seed: int, **options) -> None:
        if not 64 <= size <= 40000:
            raise CommandError("--size must be between 64 and 40000 pixels")
        meta = make_demo_pair(out or demo_dir(size, seed), size=size, seed=seed)
        self.stdout.write(
            f"before: {meta['before']}\nafter:  {meta['after']}\ntruth:  {meta['truth']} "
            f"({meta['n_changes']} injected changes)"
        )
