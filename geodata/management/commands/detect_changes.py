"""Change detection from the command line: one pair, or every pair in a folder."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from geodata.models import ChangeCandidate
from geodata.raster.constants import SENSORS
from geodata.services import job_create, job_run, scene_pairs, scene_register, scenes_register_folder
from gridgov.errors import GridGovError


def feature(c: ChangeCandidate) -> dict:
    """The contract of --output: WGS84 geometry, these properties."""
    return {
        "type": "Feature",
        "id": c.pk,
        "geometry": json.loads(c.geom.json),
        "properties": {
            "change_type": c.change_type,
            "area_m2": round(c.area_m2, 2),
            "confidence": round(c.confidence, 3),
            "grid_cell": c.grid_cell.code if c.grid_cell_id else None,
            "zones": c.zone_codes,
            "violation": c.violation,
            "violation_reason": c.violation_reason,
            "mean_index_change": round(c.mean_index_change, 4),
            "job": c.job_id,
            "status": c.status,
        },
    }


class Command(BaseCommand):
    help = (
        "Detect vegetation loss, construction and water change between two dates "
        "(--before/--after/--sensor, or --folder to pair scenes by footprint and date); "
        "candidates are stored (re-running a pair replaces its candidates) and optionally written as GeoJSON."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--before", help="GeoTIFF of the earlier date")
        parser.add_argument("--after", help="GeoTIFF of the later date")
        parser.add_argument("--folder", help="register every .tif under the folder and run each pair")
        parser.add_argument("--sensor", choices=sorted(SENSORS), help="sensor profile (default: the file's tag)")
        parser.add_argument("--before-date", type=dt.date.fromisoformat, help="YYYY-MM-DD if not in tags/name")
        parser.add_argument("--after-date", type=dt.date.fromisoformat, help="YYYY-MM-DD if not in tags/name")
        parser.add_argument("--output", help="write a GeoJSON FeatureCollection (WGS84) here")
        parser.add_argument("--min-area", type=float, help="minimum mapping unit in m² (default 500)")
        parser.add_argument("--tile-size", type=int)
        parser.add_argument("--workers", type=int)
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **o) -> None:
        params = {
            k: v
            for k, v in (("min_area_m2", o["min_area"]), ("tile_size", o["tile_size"]), ("workers", o["workers"]))
            if v is not None
        }
        try:
            if o["folder"]:
                if o["before"] or o["after"]:
                    raise CommandError("give either --folder or --before/--after, not both")
                scenes = scenes_register_folder(folder=o["folder"], sensor=o["sensor"])
                pairs = scene_pairs(scenes)
                if not pairs:
                    raise CommandError(
                        f"{o['folder']}: 没有可配对的影像（需同一传感器、覆盖范围重叠、日期不同）/ no pairs: "
                        f"{len(scenes)} scene(s), none overlapping another of the same sensor at a later date"
                    )
            else:
                if not (o["before"] and o["after"]):
                    raise CommandError("--before and --after are required (or --folder)")
                b = scene_register(path=o["before"], sensor=o["sensor"], acquired=o["before_date"])
                a = scene_register(path=o["after"], sensor=o["sensor"], acquired=o["after_date"])
                pairs = [(b, a)]
            features = []
            for i, (b, a) in enumerate(pairs, 1):
                job = job_create(before=b, after=a, params=params, defer=False)
                label = f"[{i}/{len(pairs)}] {Path(b.path).name} → {Path(a.path).name}"
                with tqdm(total=1, desc=label, unit="块", file=sys.stderr, disable=o["no_progress"]) as bar:

                    def on_progress(done: int, total: int, bar=bar) -> None:
                        if bar.total != total:
                            bar.total = total
                        bar.n = done
                        bar.refresh()

                    job = job_run(job, on_progress=on_progress)
                cands = list(ChangeCandidate.objects.filter(job=job).select_related("grid_cell").order_by("id"))
                features.extend(feature(c) for c in cands)
                n_viol = sum(c.violation for c in cands)
                self.stdout.write(f"job #{job.pk}: {len(cands)} candidates ({n_viol} flagged) — {a.path}")
        except GridGovError as exc:
            raise CommandError(exc.message) from exc
        if o["output"]:
            out = Path(o["output"])
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False))
            self.stdout.write(f"wrote {len(features)} features to {out}")
