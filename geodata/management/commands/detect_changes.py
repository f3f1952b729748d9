"""Change detection from the command line: one pair, or every pair in a folder."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils.translation import gettext as _
from tqdm import tqdm

from geodata.models import ChangeCandidate, Scene
from geodata.raster.constants import SENSORS
from geodata.series_jobs import series_check_order, series_run
from geodata.services.jobs import job_create
from geodata.services.running import job_run
from geodata.services.scenes import scene_pairs, scene_register, scenes_register_folder
from gridgov.errors import GridGovError

INPUTS = "a stacked GeoTIFF, a Sentinel-2 L2A .SAFE folder or zip, a STAC item .json or a Landsat C2 L2 folder"


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
        f"(--before/--after: each {INPUTS}; or --folder to pair the products in a folder by footprint "
        "and date); candidates are stored (re-running a pair replaces its candidates) and optionally "
        "written as GeoJSON."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--before", help=f"the earlier date: {INPUTS}")
        parser.add_argument("--after", help=f"the later date: {INPUTS}")
        parser.add_argument("--folder", help="register every product under the folder and run each pair")
        parser.add_argument(
            "--sensor", choices=sorted(SENSORS), help="sensor profile (default: what the product or its tags say)"
        )
        parser.add_argument("--before-date", type=dt.date.fromisoformat, help="YYYY-MM-DD, overrides the product's")
        parser.add_argument("--after-date", type=dt.date.fromisoformat, help="YYYY-MM-DD, overrides the product's")
        parser.add_argument("--output", help="write a GeoJSON FeatureCollection (WGS84) here")
        parser.add_argument("--min-area", type=float, help="minimum mapping unit in m² (default 500)")
        parser.add_argument("--tile-size", type=int)
        parser.add_argument("--workers", type=int)
        parser.add_argument("--no-progress", action="store_true")
        parser.add_argument(
            "--series",
            nargs="+",
            metavar="PATH",
            help=f"three or more dates, oldest first (each {INPUTS}): report the changes that persisted, "
            "with confidence and first_seen",
        )

    def pairs(self, o: dict) -> list[tuple[Scene, Scene]]:
        """The (before, after) scenes to run, registered in one transaction: a bad product
        leaves no scene of the lot behind."""
        if o["folder"]:
            if o["before"] or o["after"]:
                raise CommandError(_("请给出 --folder 或 --before/--after，不能同时给出。"))
            scenes = scenes_register_folder(folder=o["folder"], sensor=o["sensor"])
            pairs = scene_pairs(scenes)
            if not pairs:
                raise CommandError(
                    _("%(folder)s：没有可配对的影像（需同一传感器、覆盖范围重叠、日期不同），共 %(n)s 景。")
                    % {"folder": o["folder"], "n": len(scenes)}
                )
            return pairs
        if not (o["before"] and o["after"]):
            raise CommandError(_("需要 --before 和 --after（或 --folder）。"))
        with transaction.atomic():
            b = scene_register(path=o["before"], sensor=o["sensor"], acquired=o["before_date"])
            a = scene_register(path=o["after"], sensor=o["sensor"], acquired=o["after_date"])
        return [(b, a)]

    def handle(self, *args, **o) -> None:
        params = {
            k: v
            for k, v in (("min_area_m2", o["min_area"]), ("tile_size", o["tile_size"]), ("workers", o["workers"]))
            if v is not None
        }
        if o["series"]:
            return self.series(o, params)
        try:
            pairs = self.pairs(o)
            features = []
            for i, (b, a) in enumerate(pairs, 1):
                job = job_create(before=b, after=a, params=params, defer=False)
                label = f"[{i}/{len(pairs)}] {b.name} → {a.name}"
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
                for note in job.notes:
                    self.stdout.write(f"  note: {note}")
        except GridGovError as exc:
            raise CommandError(f"[{exc.code}] {exc.message}") from exc
        if o["output"]:
            out = Path(o["output"])
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False))
            self.stdout.write(f"wrote {len(features)} features to {out}")

    def series(self, o: dict, params: dict) -> None:
        """--series: register the dates (one transaction), run them as one job, write the
        GeoJSON with each candidate's first_seen."""
        if o["before"] or o["after"] or o["folder"]:
            raise CommandError(_("请给出 --series，或 --before/--after、--folder，不能同时给出。"))
        try:
            with transaction.atomic():  # a bad or misordered date leaves no scene behind
                scenes = [scene_register(path=p, sensor=o["sensor"]) for p in o["series"]]
                series_check_order(scenes)
            job, first_seen = series_run(scenes=scenes, params=params)
        except GridGovError as exc:
            raise CommandError(f"[{exc.code}] {exc.message}") from exc
        cands = list(ChangeCandidate.objects.filter(job=job).select_related("grid_cell").order_by("id"))
        features = [feature(c) for c in cands]
        for f, c in zip(features, cands, strict=True):
            f["properties"]["first_seen"] = first_seen[c.pk].isoformat() if c.pk in first_seen else None
        self.stdout.write(f"job #{job.pk}: {len(cands)} candidates over {len(scenes)} dates")
        if o["output"]:
            out = Path(o["output"])
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False))
            self.stdout.write(f"wrote {len(features)} features to {out}")
